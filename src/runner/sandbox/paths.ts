import { posix } from "node:path";

/**
 * Why a profile path is unusable, or undefined when it is fine. Profile paths are absolute or
 * `~`/`~/…` (the target user's home); `..` is refused outright so that no path can climb out of
 * what it names, and `~other` is refused because only the target user's home is known.
 */
export function profilePathProblem(path: string): string | undefined {
  if (path.includes("\0")) return "contains a NUL byte";
  if (path.startsWith("~") && path !== "~" && !path.startsWith("~/")) {
    return `'${path}': only '~/' (the target user's home) can be expanded`;
  }
  if (!path.startsWith("/") && !path.startsWith("~")) return `'${path}': relative paths are not allowed`;
  if (path.split("/").includes("..")) return `'${path}': '..' is not allowed`;
  return undefined;
}

/** Collapses `//` and `.` segments and drops a trailing slash. Input must be absolute. */
export function normalizeAbsolute(path: string): string {
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith("/") ? normalized.slice(0, -1) : normalized;
}

/** Expands `~`/`~/…` against the target user's home (not the runner's) and normalizes. */
export function expandProfilePath(path: string, home: string): string {
  const problem = profilePathProblem(path);
  if (problem) throw new Error(problem);
  if (path === "~") return normalizeAbsolute(home);
  if (path.startsWith("~/")) return normalizeAbsolute(`${home}/${path.slice(2)}`);
  return normalizeAbsolute(path);
}

/** True when `path` is `dir` or lies below it (both normalized absolute paths). */
export function isInside(path: string, dir: string): boolean {
  if (path === dir) return true;
  return path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/** Order-preserving de-duplication. */
export function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}
