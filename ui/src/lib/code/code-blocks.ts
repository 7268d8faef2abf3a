import { copyText } from "./clipboard.ts";
import { type CodeLanguage, LANGUAGE_LABELS, languageOfFence } from "./languages.ts";

/** How long the copy button says "Copied". */
const COPIED_MS = 1500;

type Highlighter = typeof import("./highlight-code.ts");
/** The highlighter module once loaded; it stays out of the first load (it brings the grammars). */
let highlighter: Highlighter | undefined;
let loadingHighlighter: Promise<Highlighter> | undefined;

function withHighlighter(use: (module: Highlighter) => void): void {
  if (highlighter) {
    use(highlighter);
    return;
  }
  loadingHighlighter ??= import("./highlight-code.ts").then((module) => {
    highlighter = module;
    return module;
  });
  loadingHighlighter.then(use, () => {
    loadingHighlighter = undefined;
  });
}

function copyButton(source: string): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button ghost small code-block-copy";
  button.dataset.testid = "code-copy";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy the code");
  let reset = 0;
  button.addEventListener("click", () => {
    void copyText(source).then((copied) => {
      button.textContent = copied ? "Copied" : "Copy failed";
      clearTimeout(reset);
      reset = window.setTimeout(() => {
        button.textContent = "Copy";
      }, COPIED_MS);
    });
  });
  return button;
}

/**
 * Gives each fenced code block of sanitized markdown a header with its language and a copy
 * button, and colours it with the language's grammar. Everything is built from elements and
 * text nodes (the code is agent output); the copy button copies the fence's exact text.
 */
export function enhanceCodeBlocks(root: HTMLElement): void {
  for (const code of root.querySelectorAll<HTMLElement>("pre > code")) {
    const pre = code.parentElement;
    if (!pre || pre.parentElement?.classList.contains("code-block")) continue;
    const info = /(?:^|\s)language-(\S+)/.exec(code.className)?.[1] ?? "";
    const language: CodeLanguage | null = languageOfFence(info);
    // marked ends every block with a newline the fence does not hold.
    const source = (code.textContent ?? "").replace(/\n$/, "");
    code.textContent = source;

    const block = document.createElement("div");
    block.className = "code-block";
    block.dataset.testid = "code-block";
    block.dataset.language = language ?? "text";
    const head = document.createElement("div");
    head.className = "code-block-head";
    const label = document.createElement("span");
    label.className = "code-block-language";
    label.dataset.testid = "code-language";
    label.textContent = language ? LANGUAGE_LABELS[language] : info || "Text";
    head.append(label, copyButton(source));
    pre.replaceWith(block);
    block.append(head, pre);
    // A long line scrolls sideways: the keyboard has to reach the block to scroll it (WCAG 2.1.1).
    pre.tabIndex = 0;

    if (language) {
      withHighlighter((module) => module.highlightInto(code, source, language, () => code.isConnected));
    }
  }
}
