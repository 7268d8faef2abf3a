/**
 * Workspace-relative paths as the files channel uses them: `/`-separated, no leading slash, and
 * `.` for the workspace root (PROTOCOL.md §2.2).
 */
export const ROOT_PATH = ".";

export function joinPath(directory: string, name: string): string {
  return directory === ROOT_PATH || directory === "" ? name : `${directory}/${name}`;
}

export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? ROOT_PATH : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The directories from the root down to the one holding `path` (root excluded). */
export function ancestorPaths(path: string): string[] {
  const parts = path.split("/").slice(0, -1);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}

/** True if `path` is `directory` or lies below it. */
export function isWithin(path: string, directory: string): boolean {
  return directory === ROOT_PATH || path === directory || path.startsWith(`${directory}/`);
}

/**
 * A path as the agent wrote it (relative to the workspace, `./x`, or absolute inside it) made
 * workspace-relative; `null` for paths outside the workspace.
 */
export function toWorkspaceRelative(workspacePath: string, path: string): string | null {
  let relative = path.trim();
  if (relative.startsWith("/")) {
    const root = workspacePath.endsWith("/") ? workspacePath : `${workspacePath}/`;
    if (!relative.startsWith(root)) return null;
    relative = relative.slice(root.length);
  }
  const parts: string[] = [];
  for (const part of relative.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length === 0 ? null : parts.join("/");
}
