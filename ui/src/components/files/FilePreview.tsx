import { languageOf } from "../../lib/file-kinds.ts";
import { fileUrl, startDownload } from "../../lib/file-urls.ts";
import type { FileBrowser } from "../../state/files/file-browser.ts";
import type { FileDocument } from "../../state/files/file-document.ts";
import { MarkdownText } from "../chat/MarkdownText.tsx";
import { formatBytes } from "../common/format.ts";
import { IconButton } from "../common/IconButton.tsx";
import { CloseIcon, DownloadIcon, EditIcon, SaveIcon } from "../common/icons.tsx";
import { CodeView } from "./CodeView.tsx";
import { FileEditor } from "./FileEditor.tsx";

/** The open file: a preview by kind (markdown, code, text, image, PDF) or the editor. */
export function FilePreview({ browser, document }: { browser: FileBrowser; document: FileDocument }) {
  const view = document.view.value;
  const editing = document.editing.value && document.editable;
  const dirty = document.dirty.value;
  const workspace = browser.workspace.name;
  return (
    <section
      class="file-preview"
      aria-label={`File ${document.path}`}
      data-testid="file-preview"
      data-path={document.path}
      data-dirty={dirty}
    >
      <header class="file-preview-head">
        <span class="file-preview-path" title={document.path}>
          {document.path}
        </span>
        {dirty && (
          <span class="badge accent" data-testid="file-dirty">
            Unsaved
          </span>
        )}
        <div class="file-preview-actions">
          {document.editable &&
            (editing ? (
              <>
                <button
                  type="button"
                  class="button primary small"
                  onClick={() => void document.save()}
                  disabled={!dirty || document.saving.value}
                  aria-keyshortcuts="Control+S"
                  data-testid="file-save"
                >
                  <SaveIcon size={13} /> {document.saving.value ? "Saving…" : "Save"}
                </button>
                <button
                  type="button"
                  class="button ghost small"
                  onClick={() => {
                    document.editing.value = false;
                  }}
                  data-testid="file-view"
                >
                  Preview
                </button>
              </>
            ) : (
              <button
                type="button"
                class="button small"
                onClick={() => {
                  document.editing.value = true;
                }}
                data-testid="file-edit"
              >
                <EditIcon size={13} /> Edit
              </button>
            ))}
          <IconButton
            label={`Download ${document.path}`}
            title="Download"
            onClick={() => startDownload(fileUrl(workspace, document.path, { download: true }))}
          >
            <DownloadIcon size={16} />
          </IconButton>
          <IconButton
            label="Close the file"
            title="Close"
            onClick={() => void browser.closeFile()}
            testId="file-close"
          >
            <CloseIcon size={16} />
          </IconButton>
        </div>
      </header>
      <Notices document={document} />
      <div class="file-preview-body">
        {view.status === "loading" && <p class="files-note">Loading…</p>}
        {view.status === "failed" && (
          <p class="files-note error" role="alert">
            {view.error}{" "}
            <button type="button" class="link-button" onClick={() => void document.load()}>
              Try again
            </button>
          </p>
        )}
        {view.status === "binary" && (
          <p class="files-note">
            This is a binary file ({formatBytes(view.size)}).{" "}
            <button
              type="button"
              class="link-button"
              onClick={() => startDownload(fileUrl(workspace, document.path, { download: true }))}
            >
              Download it
            </button>
          </p>
        )}
        {view.status === "media" &&
          (document.kind === "image" ? (
            <div class="image-preview">
              <img
                src={fileUrl(workspace, document.path, { inline: true, version: document.version.value })}
                alt={document.path}
                data-testid="file-image"
              />
            </div>
          ) : (
            // Agent-written bytes: a sandboxed frame without allow-same-origin, never our origin.
            <iframe
              class="pdf-preview"
              sandbox=""
              src={fileUrl(workspace, document.path, { inline: true, version: document.version.value })}
              title={`PDF ${document.path}`}
              data-testid="file-pdf"
            />
          ))}
        {view.status === "text" &&
          (editing ? (
            <FileEditor document={document} />
          ) : document.kind === "markdown" ? (
            <div class="markdown-preview" data-testid="file-markdown">
              <MarkdownText text={document.savedText} />
            </div>
          ) : (
            <CodeView text={document.savedText.value} language={languageOf(document.path)} />
          ))}
      </div>
    </section>
  );
}

function Notices({ document }: { document: FileDocument }) {
  const view = document.view.value;
  const saveError = document.saveError.value;
  return (
    <>
      {saveError && (
        <p class="file-notice error" role="alert" data-testid="file-save-error">
          Not saved: {saveError}
        </p>
      )}
      {document.changedOnDisk.value && (
        <p class="file-notice warning" role="status">
          This file changed on disk since you started editing.{" "}
          <button type="button" class="link-button" onClick={() => document.revert()}>
            Load the new version
          </button>{" "}
          (drops your edits), or save: it asks before it overwrites the new version.
        </p>
      )}
      {document.deleted.value && (
        <p class="file-notice warning" role="status">
          This file was deleted on disk. Saving creates it again.
        </p>
      )}
      {view.status === "text" && view.truncated && (
        <p class="file-notice" role="status">
          Showing the first part of a {formatBytes(view.size)} file, read-only. Download it to see all of it.
        </p>
      )}
    </>
  );
}
