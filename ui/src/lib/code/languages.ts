import { baseName } from "../paths.ts";

/**
 * The languages the editor and the highlighter know, named once here: a file's extension or name,
 * or a code fence's info string, maps to one of them. Only names: the grammars load on demand
 * (static-parsers.ts for colouring, editor-languages.ts for the editor).
 */
export type CodeLanguage =
  | "javascript"
  | "jsx"
  | "typescript"
  | "tsx"
  | "python"
  | "json"
  | "markdown"
  | "html"
  | "css"
  | "rust"
  | "go"
  | "yaml"
  | "toml"
  | "shell"
  | "cpp"
  | "java"
  | "sql"
  | "xml"
  | "ruby"
  | "diff"
  | "dockerfile";

/** What the code block's header shows. */
export const LANGUAGE_LABELS: Readonly<Record<CodeLanguage, string>> = {
  javascript: "JavaScript",
  jsx: "JSX",
  typescript: "TypeScript",
  tsx: "TSX",
  python: "Python",
  json: "JSON",
  markdown: "Markdown",
  html: "HTML",
  css: "CSS",
  rust: "Rust",
  go: "Go",
  yaml: "YAML",
  toml: "TOML",
  shell: "Shell",
  cpp: "C/C++",
  java: "Java",
  sql: "SQL",
  xml: "XML",
  ruby: "Ruby",
  diff: "Diff",
  dockerfile: "Dockerfile",
};

/** File extensions (lower case, no dot). */
const BY_EXTENSION: Readonly<Record<string, CodeLanguage>> = {
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "jsx",
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  py: "python",
  pyi: "python",
  json: "json",
  jsonc: "json",
  json5: "json",
  md: "markdown",
  markdown: "markdown",
  mdx: "markdown",
  html: "html",
  htm: "html",
  vue: "html",
  svelte: "html",
  css: "css",
  scss: "css",
  less: "css",
  rs: "rust",
  go: "go",
  yaml: "yaml",
  yml: "yaml",
  toml: "toml",
  ini: "toml",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  c: "cpp",
  h: "cpp",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  hpp: "cpp",
  java: "java",
  kt: "java",
  sql: "sql",
  xml: "xml",
  svg: "xml",
  xsd: "xml",
  rb: "ruby",
  diff: "diff",
  patch: "diff",
};

/** Whole file names that say their language without an extension. */
const BY_NAME: Readonly<Record<string, CodeLanguage>> = {
  Dockerfile: "dockerfile",
  Containerfile: "dockerfile",
  Makefile: "shell",
  Gemfile: "ruby",
  Rakefile: "ruby",
  ".bashrc": "shell",
  ".zshrc": "shell",
  ".profile": "shell",
};

/** Code fence names that are not an extension above. */
const FENCE_ALIASES: Readonly<Record<string, CodeLanguage>> = {
  javascript: "javascript",
  node: "javascript",
  typescript: "typescript",
  python: "python",
  python3: "python",
  rust: "rust",
  golang: "go",
  shell: "shell",
  console: "shell",
  shellsession: "shell",
  "c++": "cpp",
  xhtml: "html",
  ruby: "ruby",
  docker: "dockerfile",
  dockerfile: "dockerfile",
};

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

export function languageOfPath(path: string): CodeLanguage | null {
  const name = baseName(path);
  return BY_NAME[name] ?? BY_EXTENSION[extension(name)] ?? null;
}

/** The language a fence's info string names (its first word: "ts", "python {title=x}"), if known. */
export function languageOfFence(info: string): CodeLanguage | null {
  const word = info.trim().split(/\s+/, 1)[0]?.toLowerCase() ?? "";
  if (word === "") return null;
  return FENCE_ALIASES[word] ?? BY_EXTENSION[word] ?? null;
}
