import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import {
  crosshairCursor,
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";
import { loadEditorLanguage } from "../../lib/code/editor-languages.ts";
import type { CodeLanguage } from "../../lib/code/languages.ts";

export interface CodeEditorOptions {
  parent: HTMLElement;
  text: string;
  language: CodeLanguage | null;
  dark: boolean;
  /** Names the editor for screen readers. */
  label: string;
  onChange: (text: string) => void;
  onSave: () => void;
}

export interface CodeEditor {
  /** Replaces the whole text (a reload from disk); no onChange for it. */
  setText(text: string): void;
  setDark(dark: boolean): void;
  focus(): void;
  destroy(): void;
}

/**
 * The file editor: CodeMirror 6 with line numbers, folding, bracket matching, search and replace
 * (Ctrl/Cmd-F), undo history and Ctrl/Cmd-S to save. Tab indents; Escape then Tab leaves the
 * editor (CodeMirror's rule for indentWithTab). Colours use the `tok-*` classes, so the app's
 * stylesheet themes it like every other piece of code, in light and dark.
 */
export function createCodeEditor(options: CodeEditorOptions): CodeEditor {
  const languageSlot = new Compartment();
  const themeSlot = new Compartment();
  let applyingOwnChange = false;
  let destroyed = false;
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.text,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        dropCursor(),
        EditorState.allowMultipleSelections.of(true),
        indentOnInput(),
        syntaxHighlighting(classHighlighter),
        bracketMatching(),
        closeBrackets(),
        rectangularSelection(),
        crosshairCursor(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        search({ top: true }),
        Prec.highest(
          keymap.of([
            {
              key: "Mod-s",
              preventDefault: true,
              run: () => {
                options.onSave();
                return true;
              },
            },
          ]),
        ),
        keymap.of([
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...foldKeymap,
          indentWithTab,
        ]),
        EditorView.contentAttributes.of({ "aria-label": options.label, "data-testid": "file-editor" }),
        themeSlot.of(EditorView.darkTheme.of(options.dark)),
        languageSlot.of([]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !applyingOwnChange) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  const language = options.language;
  if (language) {
    loadEditorLanguage(language).then(
      (support) => {
        if (!destroyed) view.dispatch({ effects: languageSlot.reconfigure(support) });
      },
      // Without its grammar the file is still editable, only uncoloured.
      () => {},
    );
  }
  return {
    setText(text) {
      if (view.state.doc.toString() === text) return;
      applyingOwnChange = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        applyingOwnChange = false;
      }
    },
    setDark(dark) {
      view.dispatch({ effects: themeSlot.reconfigure(EditorView.darkTheme.of(dark)) });
    },
    focus() {
      view.focus();
    },
    destroy() {
      destroyed = true;
      view.destroy();
    },
  };
}
