import { readdir, rmdir, unlink } from "node:fs/promises";
import { ProtocolError } from "../../protocol/index.ts";
import { errnoOf, toProtocolError } from "./fs-errors.ts";
import type { OpenDir } from "./path-guard.ts";

/**
 * Removes the entry `name` of an open directory: a directory with everything below it, anything
 * else (file, link, special file) by unlinking the entry itself. Subdirectories are entered by
 * fd without following links, so a directory swapped for a symlink mid-way only loses the link.
 */
export async function removeEntry(dir: OpenDir, name: string): Promise<void> {
  const stat = await dir.lstat(name);
  if (!stat) return;
  if (stat.isDirectory()) {
    let child: OpenDir;
    try {
      child = await dir.openDir(name);
    } catch (error) {
      if (error instanceof ProtocolError && error.code === "path_not_found") return;
      if (
        error instanceof ProtocolError &&
        (error.code === "path_not_allowed" || error.code === "not_a_directory")
      ) {
        return unlinkEntry(dir, name);
      }
      throw error;
    }
    await using opened = child;
    let names: string[];
    try {
      names = await readdir(opened.fdPath);
    } catch (error) {
      throw toProtocolError(error, opened.relPath);
    }
    for (const childName of names) await removeEntry(opened, childName);
    try {
      await rmdir(dir.entryPath(name));
    } catch (error) {
      throw toProtocolError(error, dir.childRel(name));
    }
    return;
  }
  await unlinkEntry(dir, name);
}

async function unlinkEntry(dir: OpenDir, name: string): Promise<void> {
  try {
    await unlink(dir.entryPath(name));
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw toProtocolError(error, dir.childRel(name));
  }
}
