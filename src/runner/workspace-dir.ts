import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { ProtocolError } from "../protocol/common.ts";

async function realPathOf(path: string, label: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ProtocolError("path_not_found", `${label} '${path}' does not exist`);
    if (code === "EACCES")
      throw new ProtocolError("permission_denied", `${label} '${path}' is not accessible`);
    if (code === "ENOTDIR")
      throw new ProtocolError("not_a_directory", `${label} '${path}' is not a directory`);
    throw new ProtocolError("io_error", `cannot resolve ${label} '${path}': ${(error as Error).message}`);
  }
}

function strictlyInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of a workspace a session, terminal or sandbox request names: strictly inside the workspace root (not
 * the root itself), and a directory. The path is first checked as written, so nothing outside
 * the root is even looked up, then by its realpath, so a symlink anywhere in it counts by where
 * it leads.
 */
export async function resolveWorkspaceDir(workspaceRoot: string, workspacePath: string): Promise<string> {
  if (workspacePath.includes("\0")) {
    throw new ProtocolError("path_not_allowed", "workspace_path must not contain NUL bytes");
  }
  if (!isAbsolute(workspacePath)) {
    throw new ProtocolError("path_not_allowed", `workspace_path '${workspacePath}' must be absolute`);
  }
  const outside = new ProtocolError(
    "path_not_allowed",
    `workspace '${workspacePath}' is not inside the workspace root`,
  );
  const root = await realPathOf(workspaceRoot, "workspace root");
  const written = resolve(workspacePath);
  if (!strictlyInside(resolve(workspaceRoot), written) && !strictlyInside(root, written)) throw outside;
  const real = await realPathOf(workspacePath, "workspace");
  if (!strictlyInside(root, real)) throw outside;
  if (!(await stat(real)).isDirectory()) {
    throw new ProtocolError("not_a_directory", `workspace '${workspacePath}' is not a directory`);
  }
  return real;
}

/**
 * The workspace a directory belongs to: the first path segment below the workspace root. Both
 * arguments are real paths (resolveWorkspaceDir's result and the root's realpath); a session or
 * terminal in a subfolder runs under its workspace's sandbox, not a looser default.
 */
export function owningWorkspace(realRoot: string, realDir: string): string {
  const rel = relative(realRoot, realDir);
  const first = rel.split(sep)[0];
  if (!first || first === ".." || isAbsolute(rel)) {
    throw new ProtocolError("path_not_allowed", `'${realDir}' is not inside the workspace root`);
  }
  return resolve(realRoot, first);
}

/** resolveWorkspaceDir, then the workspace that directory belongs to. */
export async function resolveOwningWorkspace(workspaceRoot: string, path: string): Promise<string> {
  const dir = await resolveWorkspaceDir(workspaceRoot, path);
  return owningWorkspace(await realPathOf(workspaceRoot, "workspace root"), dir);
}
