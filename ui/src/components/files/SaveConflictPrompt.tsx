import { useEffect, useRef } from "preact/hooks";
import type { FileDocument } from "../../state/files/file-document.ts";

/**
 * A save was refused because the file changed on disk since it was opened. Nothing is written
 * until the user picks: write over the disk's version, take the disk's version (dropping the
 * edits), or go on editing (the next save asks again).
 */
export function SaveConflictPrompt({ document }: { document: FileDocument }) {
  // The choice that loses nothing gets the focus.
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  const dismiss = () => {
    document.conflict.value = false;
  };
  return (
    <div
      class="file-conflict"
      role="alertdialog"
      aria-labelledby="file-conflict-title"
      aria-describedby="file-conflict-text"
      data-testid="file-conflict"
      onKeyDown={(event) => {
        if (event.key === "Escape") dismiss();
      }}
    >
      <p id="file-conflict-title" class="file-conflict-title">
        Not saved: {document.path} changed on disk
      </p>
      <p id="file-conflict-text" class="file-conflict-text">
        {document.deleted.value
          ? "It was deleted or replaced since you opened it."
          : "Someone or something (an agent, another tab) wrote it after you opened it."}{" "}
        Your edits are still here.
      </p>
      <div class="file-conflict-actions">
        <button
          type="button"
          class="button danger small"
          disabled={document.saving.value}
          onClick={() => void document.save(true)}
          data-testid="conflict-overwrite"
        >
          Overwrite with my version
        </button>
        <button
          type="button"
          class="button small"
          disabled={document.saving.value}
          onClick={() => document.revert()}
          data-testid="conflict-reload"
        >
          Reload from disk
        </button>
        <button
          type="button"
          class="button ghost small"
          ref={first}
          onClick={dismiss}
          data-testid="conflict-keep"
        >
          Keep editing
        </button>
      </div>
    </div>
  );
}
