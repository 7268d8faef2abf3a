import { readdir, unlink } from "node:fs/promises";
import { isPartialName, OpenDir } from "./path-guard.ts";

/** Entries looked at per sweep: a huge workspace root costs the start at most this much. */
const SWEEP_BUDGET = 200_000;
/** Trees no upload lands in whose size would eat the budget. */
const SKIPPED_DIRS = new Set([".git", "node_modules"]);

/**
 * Removes the `.oqto-partial-*` temp files an earlier runner left behind when it died mid-write
 * (SIGKILL, power loss). Only regular files older than `before` (this runner's start: its own
 * uploads are newer) are removed; directories are opened by fd one level at a time and symlinks
 * are never followed, so nothing outside the workspace root is touched. Returns how many went.
 */
export async function sweepPartials(workspaceRoot: string, before: number): Promise<number> {
  let budget = SWEEP_BUDGET;
  let removed = 0;
  const visit = async (dir: OpenDir): Promise<void> => {
    const entries = await readdir(dir.fdPath, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (--budget < 0) return;
      if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) {
        let child: OpenDir;
        try {
          child = await dir.openDir(entry.name);
        } catch {
          continue; // replaced or unreadable meanwhile: not ours to sweep
        }
        await using _child = child;
        await visit(child);
      } else if (entry.isFile() && isPartialName(entry.name)) {
        const stat = await dir.lstat(entry.name).catch(() => undefined);
        if (!stat?.isFile() || stat.mtimeMs >= before) continue;
        await unlink(dir.entryPath(entry.name)).then(
          () => (removed += 1),
          () => undefined,
        );
      }
    }
  };
  let root: OpenDir;
  try {
    root = await OpenDir.openTrusted(workspaceRoot);
  } catch {
    return 0; // no workspace root yet: nothing to sweep
  }
  await using _root = root;
  await visit(root);
  return removed;
}
