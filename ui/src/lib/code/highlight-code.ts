import type { Parser } from "@lezer/common";
import { classHighlighter, highlightCode } from "@lezer/highlight";
import type { CodeLanguage } from "./languages.ts";
import { loadedParser, loadParser } from "./static-parsers.ts";

/**
 * Code longer than this stays plain: a span per token of a huge file costs more than the colours
 * help. The editor (CodeMirror) colours only what is on screen and has no such limit.
 */
export const MAX_HIGHLIGHT_CHARS = 300_000;

/**
 * The code as a fragment of text nodes, tokens in spans with CodeMirror's `tok-*` classes (the
 * editor's classes too, so one stylesheet colours both, in the app's light or dark theme). The
 * code is agent or file text: it only ever becomes text nodes, never markup.
 */
function highlighted(code: string, parser: Parser): DocumentFragment {
  const fragment = document.createDocumentFragment();
  highlightCode(
    code,
    parser.parse(code),
    classHighlighter,
    (text, classes) => {
      if (!classes) {
        fragment.append(text);
        return;
      }
      const span = document.createElement("span");
      span.className = classes;
      span.textContent = text;
      fragment.append(span);
    },
    () => fragment.append("\n"),
  );
  return fragment;
}

/**
 * Colours `code` into `target` (replacing its content): at once when the language's grammar is
 * here (a streaming answer re-renders every frame and must not flash plain), else once it loaded,
 * unless `stillWanted` says the target was dropped or reused meanwhile. The plain text stays when
 * the code is too long or the grammar cannot load.
 */
export function highlightInto(
  target: HTMLElement,
  code: string,
  language: CodeLanguage,
  stillWanted: () => boolean = () => true,
): void {
  if (code.length > MAX_HIGHLIGHT_CHARS) return;
  const paint = (parser: Parser) => {
    target.replaceChildren(highlighted(code, parser));
    target.dataset.highlighted = language;
  };
  const parser = loadedParser(language);
  if (parser) {
    paint(parser);
    return;
  }
  loadParser(language).then(
    (loaded) => {
      if (stillWanted()) paint(loaded);
    },
    () => {},
  );
}
