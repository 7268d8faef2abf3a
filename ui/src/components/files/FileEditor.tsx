import { useRef } from "preact/hooks";
import type { FileDocument } from "../../state/files/file-document.ts";

const INDENT = "  ";

/**
 * A plain-text editor: a textarea bound to the document's buffer. Ctrl/Cmd+S saves; Tab indents
 * (Escape first, then Tab, leaves the editor).
 */
export function FileEditor({ document }: { document: FileDocument }) {
  const escaped = useRef(false);
  const onKeyDown = (event: KeyboardEvent) => {
    const area = event.currentTarget as HTMLTextAreaElement;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      void document.save();
      return;
    }
    if (event.key === "Escape") {
      escaped.current = true;
      return;
    }
    if (event.key === "Tab" && !escaped.current && !event.shiftKey) {
      event.preventDefault();
      // execCommand keeps the browser's undo history, which assigning `value` would wipe.
      if (!window.document.execCommand("insertText", false, INDENT)) {
        area.setRangeText(INDENT, area.selectionStart, area.selectionEnd, "end");
        document.text.value = area.value;
      }
    }
    escaped.current = false;
  };
  return (
    <textarea
      class="file-editor"
      aria-label={`Contents of ${document.path}`}
      aria-keyshortcuts="Control+S"
      spellcheck={false}
      wrap="off"
      value={document.text}
      onInput={(event) => {
        document.text.value = event.currentTarget.value;
      }}
      onKeyDown={onKeyDown}
      data-testid="file-editor"
    />
  );
}
