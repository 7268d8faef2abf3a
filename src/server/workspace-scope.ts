import { resolve, sep } from "node:path";
import { ProtocolError } from "../protocol/index.ts";

/**
 * The server's first check that a workspace path a client names lies in that user's workspace
 * root (the runner then resolves it with realpath, symlinks included).
 */
export function assertInWorkspaceRoot(root: string, workspacePath: string, allowRoot = false): string {
  const path = resolve(workspacePath);
  if ((allowRoot && path === root) || path.startsWith(root + sep)) return path;
  throw new ProtocolError("path_not_allowed", "the workspace must be inside your workspace root");
}
