import { useLayoutEffect, useMemo, useRef } from "preact/hooks";
import type { CodeLanguage } from "../../lib/code/languages.ts";

/** Line numbers for `text`: one per line, none for the empty line after a final newline. */
function lineNumbers(text: string): string {
  let count = 1;
  for (let at = text.indexOf("\n"); at !== -1 && at < text.length - 1; at = text.indexOf("\n", at + 1)) {
    count += 1;
  }
  return Array.from({ length: count }, (_, index) => index + 1).join("\n");
}

/**
 * Read-only code, coloured by the same grammars as the chat's code blocks and the editor's
 * classes. The text is set as a text node and coloured in spans of text: file content is never
 * HTML. The grammar loads on demand, so the plain text shows first.
 */
export function CodeView({ text, language }: { text: string; language: CodeLanguage | null }) {
  const code = useRef<HTMLElement>(null);
  const numbers = useMemo(() => lineNumbers(text), [text]);
  useLayoutEffect(() => {
    const target = code.current;
    if (!target) return;
    target.textContent = text;
    delete target.dataset.highlighted;
    if (!language) return;
    let current = true;
    void import("../../lib/code/highlight-code.ts").then((module) =>
      module.highlightInto(target, text, language, () => current),
    );
    return () => {
      current = false;
    };
  }, [text, language]);
  return (
    <div class="code-view">
      <pre class="code-view-lines" aria-hidden="true">
        {numbers}
      </pre>
      <pre class="code-view-text" data-testid="file-code" data-language={language ?? "text"}>
        <code ref={code} />
      </pre>
    </div>
  );
}
