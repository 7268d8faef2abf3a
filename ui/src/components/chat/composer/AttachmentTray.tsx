import { CloseIcon } from "../../common/icons.tsx";
import type { ComposerAttachments, PendingUpload } from "./composer-attachments.ts";

/**
 * The composer's images (thumbnails to remove) and uploads under way, above the text; `warning`
 * is shown beside the images (the model cannot see them).
 */
export function AttachmentTray({
  attachments,
  warning,
}: {
  attachments: ComposerAttachments;
  warning: string | null;
}) {
  const images = attachments.images.value;
  const uploads = attachments.uploads.value;
  const notice = attachments.notice.value;
  if (images.length === 0 && uploads.length === 0 && notice === null) return null;
  return (
    <div class="attachment-tray" data-testid="attachment-tray">
      {images.length > 0 && warning !== null && (
        <p class="attachment-notice" data-testid="attachment-warning">
          {warning}
        </p>
      )}
      {notice !== null && (
        <p class="attachment-notice" role="alert" data-testid="attachment-notice">
          {notice}
          <button
            type="button"
            class="icon-button small"
            aria-label="Dismiss"
            onClick={() => {
              attachments.notice.value = null;
            }}
          >
            <CloseIcon size={12} />
          </button>
        </p>
      )}
      {images.length > 0 && (
        <ul class="attachment-list" aria-label="Images to send">
          {images.map((image) => (
            <li key={image.key} class="attachment-thumb" data-testid="attachment-image">
              <img src={`data:${image.mediaType};base64,${image.data}`} alt={image.name} />
              <button
                type="button"
                class="attachment-remove"
                aria-label={`Remove ${image.name}`}
                onClick={() => attachments.removeImage(image.key)}
              >
                <CloseIcon size={12} />
              </button>
            </li>
          ))}
        </ul>
      )}
      {uploads.map((upload) => (
        <UploadChip
          key={upload.key}
          upload={upload}
          onDismiss={() => attachments.dismissUpload(upload.key)}
        />
      ))}
    </div>
  );
}

function UploadChip({ upload, onDismiss }: { upload: PendingUpload; onDismiss: () => void }) {
  const failed = upload.status.value === "failed";
  const percent = upload.size > 0 ? Math.round((upload.loaded.value / upload.size) * 100) : 100;
  return (
    <p class="attachment-upload" data-status={upload.status.value} data-testid="attachment-upload">
      {failed
        ? `${upload.name} was not uploaded: ${upload.error.value ?? "unknown error"}`
        : `Uploading ${upload.name} to ${upload.path}… ${percent}%`}
      {failed && (
        <button type="button" class="icon-button small" aria-label="Dismiss" onClick={onDismiss}>
          <CloseIcon size={12} />
        </button>
      )}
    </p>
  );
}
