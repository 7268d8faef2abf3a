import { effect } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../../lib/errors.ts";
import { languageOf } from "../../lib/file-kinds.ts";
import type { FileDocument } from "../../state/files/file-document.ts";
import { effectiveTheme } from "../../state/theme.ts";
import { SaveConflictPrompt } from "./SaveConflictPrompt.tsx";

/**
 * The code editor bound to the document's buffer. CodeMirror loads with the first file opened for
 * editing (a chunk of its own, never part of the sign-in page or the chat); until then, and if it
 * cannot load, the pane says so.
 */
export function FileEditor({ document }: { document: FileDocument }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ status: "loading" | "ready" } | { status: "failed"; error: string }>({
    status: "loading",
  });
  useEffect(() => {
    let disposed = false;
    let teardown = () => {};
    import("./code-editor.ts").then(
      ({ createCodeEditor }) => {
        const parent = host.current;
        if (disposed || !parent) return;
        const editor = createCodeEditor({
          parent,
          text: document.text.peek(),
          language: languageOf(document.path),
          dark: effectiveTheme.peek() === "dark",
          label: `Contents of ${document.path}`,
          onChange: (text) => {
            document.text.value = text;
          },
          onSave: () => void document.save(),
        });
        // A reload from disk or a revert replaces the buffer: the editor shows it.
        const stopText = effect(() => editor.setText(document.text.value));
        const stopTheme = effect(() => editor.setDark(effectiveTheme.value === "dark"));
        teardown = () => {
          stopText();
          stopTheme();
          editor.destroy();
        };
        setState({ status: "ready" });
        editor.focus();
      },
      (error: unknown) => {
        if (!disposed) setState({ status: "failed", error: errorText(error) });
      },
    );
    return () => {
      disposed = true;
      teardown();
    };
  }, [document]);
  return (
    <div class="file-editor" data-state={state.status}>
      {document.conflict.value && <SaveConflictPrompt document={document} />}
      {state.status === "loading" && <p class="files-note">Loading the editor…</p>}
      {state.status === "failed" && (
        <p class="files-note error" role="alert">
          The editor could not load: {state.error}
        </p>
      )}
      <div class="file-editor-host" ref={host} />
    </div>
  );
}
