import { useMemo } from "preact/hooks";
import type { Language } from "../../lib/file-kinds.ts";
import { MAX_HIGHLIGHT_CHARS, tokenize } from "../../lib/highlight.ts";

/** Read-only code with light highlighting (text nodes in spans: file content is never HTML). */
export function CodeView({ text, language }: { text: string; language: Language | null }) {
  const tokens = useMemo(
    () => (language && text.length <= MAX_HIGHLIGHT_CHARS ? tokenize(text, language) : null),
    [text, language],
  );
  return (
    <pre class="code-view" data-testid="file-code" data-language={language ?? "text"}>
      <code>
        {tokens
          ? tokens.map((token, index) =>
              token.kind === "plain" ? (
                token.text
              ) : (
                <span key={index} class={`tok-${token.kind}`}>
                  {token.text}
                </span>
              ),
            )
          : text}
      </code>
    </pre>
  );
}
