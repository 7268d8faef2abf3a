import type { StreamParser } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import type { CodeLanguage } from "./languages.ts";

/** A CodeMirror legacy mode (languages without a lezer grammar) as an editor language. */
async function streamLanguage(load: () => Promise<StreamParser<unknown>>): Promise<Extension> {
  const [{ StreamLanguage }, mode] = await Promise.all([import("@codemirror/language"), load()]);
  return StreamLanguage.define(mode);
}

/**
 * The editor's support for each language (grammar, indentation, folding, the language's own
 * keys), from CodeMirror's language packages; each loads when a file of that language opens.
 */
const LOADERS: Readonly<Record<CodeLanguage, () => Promise<Extension>>> = {
  javascript: async () => (await import("@codemirror/lang-javascript")).javascript(),
  jsx: async () => (await import("@codemirror/lang-javascript")).javascript({ jsx: true }),
  typescript: async () => (await import("@codemirror/lang-javascript")).javascript({ typescript: true }),
  tsx: async () => (await import("@codemirror/lang-javascript")).javascript({ typescript: true, jsx: true }),
  python: async () => (await import("@codemirror/lang-python")).python(),
  json: async () => (await import("@codemirror/lang-json")).json(),
  markdown: async () => (await import("@codemirror/lang-markdown")).markdown(),
  html: async () => (await import("@codemirror/lang-html")).html(),
  css: async () => (await import("@codemirror/lang-css")).css(),
  rust: async () => (await import("@codemirror/lang-rust")).rust(),
  go: async () => (await import("@codemirror/lang-go")).go(),
  yaml: async () => (await import("@codemirror/lang-yaml")).yaml(),
  cpp: async () => (await import("@codemirror/lang-cpp")).cpp(),
  java: async () => (await import("@codemirror/lang-java")).java(),
  sql: async () => (await import("@codemirror/lang-sql")).sql(),
  xml: async () => (await import("@codemirror/lang-xml")).xml(),
  toml: () => streamLanguage(async () => (await import("@codemirror/legacy-modes/mode/toml")).toml),
  shell: () => streamLanguage(async () => (await import("@codemirror/legacy-modes/mode/shell")).shell),
  ruby: () => streamLanguage(async () => (await import("@codemirror/legacy-modes/mode/ruby")).ruby),
  diff: () => streamLanguage(async () => (await import("@codemirror/legacy-modes/mode/diff")).diff),
  dockerfile: () =>
    streamLanguage(async () => (await import("@codemirror/legacy-modes/mode/dockerfile")).dockerFile),
};

export function loadEditorLanguage(language: CodeLanguage): Promise<Extension> {
  return LOADERS[language]();
}
