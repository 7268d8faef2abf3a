import type { UploadItem, UploadQueue } from "../../state/files/uploads.ts";
import { formatBytes } from "../common/format.ts";
import { CloseIcon } from "../common/icons.tsx";

const STATUS_LABELS = {
  queued: "Waiting",
  uploading: "Uploading",
  done: "Uploaded",
  failed: "Failed",
  cancelled: "Cancelled",
} as const;

/** Uploads with per-file progress; finished rows stay until cleared. */
export function UploadList({ queue }: { queue: UploadQueue }) {
  const items = queue.items.value;
  if (items.length === 0) return null;
  return (
    <section class="uploads" aria-label="Uploads" data-testid="uploads">
      <div class="uploads-head">
        <span>Uploads</span>
        <button type="button" class="link-button" onClick={() => queue.clearFinished()}>
          Clear finished
        </button>
      </div>
      <ul>
        {items.map((item) => (
          <UploadRow key={item.key} item={item} />
        ))}
      </ul>
    </section>
  );
}

function UploadRow({ item }: { item: UploadItem }) {
  const status = item.status.value;
  const loaded = item.loaded.value;
  const size = item.file.size;
  const percent = size === 0 ? (status === "done" ? 100 : 0) : Math.round((loaded / size) * 100);
  return (
    <li class="upload-item" data-status={status} data-testid="upload-item" data-path={item.path}>
      <div class="upload-line">
        <span class="upload-name" title={item.path}>
          {item.path}
        </span>
        <span class="upload-status">
          {status === "uploading" ? `${percent}%` : STATUS_LABELS[status]} · {formatBytes(size)}
        </span>
        {(status === "queued" || status === "uploading") && (
          <button
            type="button"
            class="icon-button small"
            aria-label={`Cancel the upload of ${item.path}`}
            onClick={() => item.cancel()}
          >
            <CloseIcon size={12} />
          </button>
        )}
      </div>
      <div
        class="upload-bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label={`Upload of ${item.path}`}
      >
        <span style={{ width: `${percent}%` }} />
      </div>
      {item.error.value && <p class="upload-error">{item.error.value}</p>}
    </li>
  );
}
