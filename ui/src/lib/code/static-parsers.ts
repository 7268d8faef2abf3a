import type { StreamParser } from "@codemirror/language";
import type { Parser } from "@lezer/common";
import type { CodeLanguage } from "./languages.ts";

/**
 * The lezer grammar of each language, for colouring code outside an editor (chat code blocks, the
 * file view). Each loads on first use as a chunk of its own; the few languages without a lezer
 * grammar use CodeMirror's stream parsers (legacy modes), which also parse outside an editor.
 */
async function streamParser(load: () => Promise<StreamParser<unknown>>): Promise<Parser> {
  const [{ StreamLanguage }, mode] = await Promise.all([import("@codemirror/language"), load()]);
  return StreamLanguage.define(mode).parser;
}

const LOADERS: Readonly<Record<CodeLanguage, () => Promise<Parser>>> = {
  javascript: async () => (await import("@lezer/javascript")).parser,
  jsx: async () => (await import("@lezer/javascript")).parser.configure({ dialect: "jsx" }),
  typescript: async () => (await import("@lezer/javascript")).parser.configure({ dialect: "ts" }),
  tsx: async () => (await import("@lezer/javascript")).parser.configure({ dialect: "ts jsx" }),
  python: async () => (await import("@lezer/python")).parser,
  json: async () => (await import("@lezer/json")).parser,
  markdown: async () => {
    const { parser, GFM } = await import("@lezer/markdown");
    return parser.configure(GFM);
  },
  html: async () => {
    const [html, js, css] = await Promise.all([
      import("@lezer/html"),
      import("@lezer/javascript"),
      import("@lezer/css"),
    ]);
    // Script and style elements are coloured as what they hold.
    return html.parser.configure({
      wrap: html.configureNesting([
        { tag: "script", parser: js.parser },
        { tag: "style", parser: css.parser },
      ]),
    });
  },
  css: async () => (await import("@lezer/css")).parser,
  rust: async () => (await import("@lezer/rust")).parser,
  go: async () => (await import("@lezer/go")).parser,
  yaml: async () => (await import("@lezer/yaml")).parser,
  cpp: async () => (await import("@lezer/cpp")).parser,
  java: async () => (await import("@lezer/java")).parser,
  xml: async () => (await import("@lezer/xml")).parser,
  // lang-sql has no separate lezer package: its tokenizer lives in the CodeMirror language.
  sql: async () => (await import("@codemirror/lang-sql")).StandardSQL.language.parser,
  toml: () => streamParser(async () => (await import("@codemirror/legacy-modes/mode/toml")).toml),
  shell: () => streamParser(async () => (await import("@codemirror/legacy-modes/mode/shell")).shell),
  ruby: () => streamParser(async () => (await import("@codemirror/legacy-modes/mode/ruby")).ruby),
  diff: () => streamParser(async () => (await import("@codemirror/legacy-modes/mode/diff")).diff),
  dockerfile: () =>
    streamParser(async () => (await import("@codemirror/legacy-modes/mode/dockerfile")).dockerFile),
};

const loaded = new Map<CodeLanguage, Parser>();
const loading = new Map<CodeLanguage, Promise<Parser>>();

/** The parser if it is already here: a streaming answer re-renders every frame and colours at once. */
export function loadedParser(language: CodeLanguage): Parser | undefined {
  return loaded.get(language);
}

export function loadParser(language: CodeLanguage): Promise<Parser> {
  let promise = loading.get(language);
  if (!promise) {
    promise = LOADERS[language]().then((parser) => {
      loaded.set(language, parser);
      return parser;
    });
    // A chunk that failed to load (a dropped connection) is tried again next time.
    promise.catch(() => loading.delete(language));
    loading.set(language, promise);
  }
  return promise;
}
