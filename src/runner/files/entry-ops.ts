import { randomUUID } from "node:crypto";
import { mkdir, rename, rmdir } from "node:fs/promises";
import type { FileStat } from "../../protocol/files.ts";
import { ProtocolError } from "../../protocol/index.ts";
import { copyDirectory, copyFileToPending } from "./copy-entry.ts";
import { errnoOf, toProtocolError } from "./fs-errors.ts";
import { entryKind, joinRel, type OpenDir, PARTIAL_PREFIX, symlinkRefused } from "./path-guard.ts";
import { removeEntry } from "./remove-entry.ts";

/*
 * Operations on directory entries. They address `<parent fd>/<name>` and never follow the final
 * component, so stat, delete, rename and move act on a symlink or special file itself; copy reads
 * content and therefore refuses them at the top level.
 */

const MISSING: FileStat = {
  exists: false,
  is_file: false,
  is_dir: false,
  is_symlink: false,
  size: 0,
  modified_at: 0,
  mode: 0,
};

export async function statEntry(ws: OpenDir, parts: string[]): Promise<FileStat> {
  const name = parts.at(-1) ?? ".";
  let parent: OpenDir;
  try {
    parent = await ws.walk(parts.slice(0, -1));
  } catch (error) {
    if (
      error instanceof ProtocolError &&
      (error.code === "path_not_found" || error.code === "not_a_directory")
    ) {
      return MISSING;
    }
    throw error;
  }
  await using dir = parent;
  const stat = await dir.lstat(name);
  if (!stat) return MISSING;
  const result: FileStat = {
    exists: true,
    is_file: stat.isFile(),
    is_dir: stat.isDirectory(),
    is_symlink: stat.isSymbolicLink(),
    size: stat.size,
    modified_at: Math.round(stat.mtimeMs),
    mode: stat.mode & 0o7777,
  };
  if (stat.birthtimeMs > 0) result.created_at = Math.round(stat.birthtimeMs);
  return result;
}

export async function deleteEntry(ws: OpenDir, parts: string[], recursive: boolean): Promise<void> {
  const name = lastPart(parts, "the workspace itself cannot be deleted");
  await using parent = await ws.walk(parts.slice(0, -1));
  const stat = await parent.lstat(name);
  const rel = joinRel(parts);
  if (!stat) throw new ProtocolError("path_not_found", `'${rel}' does not exist`, { path: rel });
  if (stat.isDirectory() && !recursive) {
    try {
      await rmdir(parent.entryPath(name));
    } catch (error) {
      if (errnoOf(error) === "ENOTEMPTY") {
        throw new ProtocolError("invalid_request", `'${rel}' is not empty; delete it with recursive`, {
          path: rel,
        });
      }
      throw toProtocolError(error, rel);
    }
    return;
  }
  await removeEntry(parent, name);
}

/** mkdir; with createParents also the missing parents, and an existing directory is fine (mkdir -p). */
export async function createDirectory(ws: OpenDir, parts: string[], createParents: boolean): Promise<void> {
  const rel = joinRel(parts);
  const name = parts.at(-1);
  if (name === undefined) {
    if (createParents) return;
    throw new ProtocolError("path_exists", "the workspace itself already exists", { path: rel });
  }
  await using parent = await ws.walk(parts.slice(0, -1), { create: createParents });
  try {
    await mkdir(parent.entryPath(name));
  } catch (error) {
    if (errnoOf(error) !== "EEXIST") throw toProtocolError(error, rel);
    const existing = await parent.lstat(name);
    if (createParents && existing?.isDirectory()) return;
    throw new ProtocolError("path_exists", `'${rel}' already exists`, { path: rel });
  }
}

/** rename(2) inside the workspace; `to` may be replaced only with `overwrite` and by the same kind. */
export async function moveEntry(
  ws: OpenDir,
  from: string[],
  to: string[],
  overwrite: boolean,
): Promise<void> {
  const fromName = lastPart(from, "the workspace itself cannot be moved");
  const toName = lastPart(to, "the workspace itself cannot be replaced");
  await using fromDir = await ws.walk(from.slice(0, -1));
  await using toDir = await ws.walk(to.slice(0, -1));
  const source = await fromDir.lstat(fromName);
  if (!source) throw new ProtocolError("path_not_found", `'${joinRel(from)}' does not exist`);
  if (isSamePath(from, to)) return;
  assertNotInside(from, to, "move");
  await checkReplaceable(toDir, toName, source.isDirectory(), overwrite);
  try {
    await rename(fromDir.entryPath(fromName), toDir.entryPath(toName));
  } catch (error) {
    throw toProtocolError(error, joinRel(to));
  }
}

/**
 * Copies a file or directory. A directory is copied under a hidden temp name first and renamed into
 * place when complete, so a failed copy leaves nothing behind and an overwritten one is replaced
 * only at the end.
 */
export async function copyEntry(
  ws: OpenDir,
  from: string[],
  to: string[],
  overwrite: boolean,
): Promise<void> {
  const fromName = lastPart(from, "the workspace itself cannot be copied into itself");
  const toName = lastPart(to, "the workspace itself cannot be replaced");
  if (isSamePath(from, to)) throw new ProtocolError("invalid_request", "source and destination are the same");
  assertNotInside(from, to, "copy");
  await using fromDir = await ws.walk(from.slice(0, -1));
  await using toDir = await ws.walk(to.slice(0, -1));
  const source = await fromDir.lstat(fromName);
  const fromRel = joinRel(from);
  if (!source) throw new ProtocolError("path_not_found", `'${fromRel}' does not exist`);
  const kind = entryKind(source);
  if (kind === "symlink") throw symlinkRefused(fromRel);
  if (kind === "special") throw new ProtocolError("path_not_allowed", `'${fromRel}' is a special file`);
  const existing = await checkReplaceable(toDir, toName, kind === "directory", overwrite);
  if (kind === "file") {
    const pending = await copyFileToPending(fromDir, fromName, toDir);
    await pending.commit(toDir, toName, overwrite);
    return;
  }
  const tempName = `${PARTIAL_PREFIX}${randomUUID()}`;
  try {
    await copyDirectory(fromDir, fromName, toDir, tempName);
    if (existing) await removeEntry(toDir, toName);
    await rename(toDir.entryPath(tempName), toDir.entryPath(toName));
  } catch (error) {
    await removeEntry(toDir, tempName).catch(() => undefined);
    throw toProtocolError(error, joinRel(to));
  }
}

function lastPart(parts: string[], rootRefusal: string): string {
  const name = parts.at(-1);
  if (name === undefined) throw new ProtocolError("path_not_allowed", rootRefusal);
  return name;
}

function isSamePath(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/** `to` equal to or below `from` would move or copy a directory into itself. */
function assertNotInside(from: string[], to: string[], verb: string): void {
  if (to.length >= from.length && from.every((part, i) => part === to[i])) {
    throw new ProtocolError("invalid_request", `cannot ${verb} '${joinRel(from)}' into itself`);
  }
}

/** The destination may exist only with `overwrite`, and only as the same kind (file or directory). */
async function checkReplaceable(dir: OpenDir, name: string, sourceIsDir: boolean, overwrite: boolean) {
  const existing = await dir.lstat(name);
  if (!existing) return undefined;
  const rel = dir.childRel(name);
  if (!overwrite) throw new ProtocolError("path_exists", `'${rel}' already exists`, { path: rel });
  if (existing.isDirectory() && !sourceIsDir) {
    throw new ProtocolError("not_a_file", `'${rel}' is a directory and cannot be replaced by a file`);
  }
  if (!existing.isDirectory() && sourceIsDir) {
    throw new ProtocolError("not_a_directory", `'${rel}' is not a directory and cannot be replaced by one`);
  }
  return existing;
}
