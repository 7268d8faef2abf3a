import { type CodeLanguage, languageOfPath } from "./code/languages.ts";
import { baseName } from "./paths.ts";

/** How the file pane shows a file: in the browser by URL (image, pdf) or as text read over the mux. */
export type FileKind = "image" | "pdf" | "markdown" | "code" | "text";

const IMAGE = new Set(["png", "jpg", "jpeg", "gif", "webp", "svg", "bmp", "ico", "avif"]);
const MARKDOWN = new Set(["md", "markdown", "mdx"]);

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

export function languageOf(path: string): CodeLanguage | null {
  return languageOfPath(path);
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
