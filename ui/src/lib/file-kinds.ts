import { baseName } from "./paths.ts";

/** How the file pane shows a file: in the browser by URL (image, pdf) or as text read over the mux. */
export type FileKind = "image" | "pdf" | "markdown" | "code" | "text";

/** Syntax families of the light highlighter (see highlight.ts). */
export type Language =
  | "c-like"
  | "python"
  | "shell"
  | "ruby"
  | "json"
  | "yaml"
  | "toml"
  | "css"
  | "markup"
  | "sql";

const IMAGE = new Set(["png", "jpg", "jpeg", "gif", "webp", "svg", "bmp", "ico", "avif"]);
const MARKDOWN = new Set(["md", "markdown", "mdx"]);
const LANGUAGES: Record<string, Language> = {
  ts: "c-like",
  tsx: "c-like",
  js: "c-like",
  jsx: "c-like",
  mjs: "c-like",
  cjs: "c-like",
  java: "c-like",
  c: "c-like",
  h: "c-like",
  cc: "c-like",
  cpp: "c-like",
  hpp: "c-like",
  cs: "c-like",
  go: "c-like",
  rs: "c-like",
  swift: "c-like",
  kt: "c-like",
  scala: "c-like",
  dart: "c-like",
  php: "c-like",
  py: "python",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  rb: "ruby",
  json: "json",
  jsonc: "c-like",
  yaml: "yaml",
  yml: "yaml",
  toml: "toml",
  ini: "toml",
  css: "css",
  scss: "css",
  html: "markup",
  htm: "markup",
  xml: "markup",
  vue: "markup",
  svelte: "markup",
  sql: "sql",
};
const NAMED: Record<string, Language> = {
  Dockerfile: "shell",
  Makefile: "shell",
  ".bashrc": "shell",
  ".profile": "shell",
};

function extension(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

export function fileKind(path: string): FileKind {
  const ext = extension(path);
  if (IMAGE.has(ext)) return "image";
  if (ext === "pdf") return "pdf";
  if (MARKDOWN.has(ext)) return "markdown";
  return languageOf(path) ? "code" : "text";
}

export function languageOf(path: string): Language | null {
  return NAMED[baseName(path)] ?? LANGUAGES[extension(path)] ?? null;
}

/** Icon family of a tree entry. */
export type IconKind = "folder" | "image" | "code" | "text" | "pdf" | "archive" | "symlink" | "file";

const ARCHIVE = new Set(["zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst"]);
const TEXT = new Set(["txt", "log", "csv", "tsv", "rst", "adoc"]);

export function iconKind(path: string, type: "file" | "directory" | "symlink"): IconKind {
  if (type === "directory") return "folder";
  if (type === "symlink") return "symlink";
  const ext = extension(path);
  const kind = fileKind(path);
  if (kind === "image" || kind === "pdf" || kind === "code") return kind;
  if (kind === "markdown" || TEXT.has(ext)) return "text";
  if (ARCHIVE.has(ext)) return "archive";
  return "file";
}
