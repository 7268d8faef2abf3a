import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { ProtocolError } from "../../protocol/index.ts";
import { toProtocolError } from "./fs-errors.ts";
import { entryKind, isPartialName, type OpenDir } from "./path-guard.ts";

export interface DirEntry {
  name: string;
  kind: "file" | "directory" | "symlink";
  size: number;
  modifiedAt: number;
  /** Permission bits. */
  mode: number;
  /** Hard link count (see assertPlainFile). */
  links: number;
}

/** A directory entry known by name and d_type only: cheap, for sorting and paging. */
export interface EntryName {
  name: string;
  isDir: boolean;
}

export interface ListNamesOptions {
  includeHidden: boolean;
  /** More entries than this is an error (`too_large`) rather than a huge reply. */
  maxEntries?: number;
}

/**
 * The names in an open directory, directories first, then by name, without a stat per entry.
 * Special files (FIFOs, sockets, devices) and files being written (PARTIAL_PREFIX) are never
 * listed.
 */
export async function listNames(dir: OpenDir, options: ListNamesOptions): Promise<EntryName[]> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir.fdPath, { withFileTypes: true });
  } catch (error) {
    throw toProtocolError(error, dir.relPath);
  }
  const names = dirents
    .filter((dirent) => !isSpecial(dirent) && !isPartialName(dirent.name))
    .filter(({ name }) => options.includeHidden || !name.startsWith("."))
    .map((dirent) => ({ name: dirent.name, isDir: dirent.isDirectory() }));
  if (options.maxEntries !== undefined && names.length > options.maxEntries) {
    throw new ProtocolError(
      "too_large",
      `'${dir.relPath}' has ${names.length} entries, more than the limit of ${options.maxEntries}; use tree with offset/limit`,
      { path: dir.relPath, entries: names.length },
    );
  }
  return names.sort(compareNames);
}

/**
 * Describes entries by lstat (links are never followed). Entries that vanished or became special
 * files since they were listed are left out.
 */
export async function describeEntries(dir: OpenDir, names: readonly EntryName[]): Promise<DirEntry[]> {
  const described = await Promise.all(
    names.map(async ({ name }): Promise<DirEntry | undefined> => {
      const stat = await dir.lstat(name);
      const kind = stat && entryKind(stat);
      if (!stat || !kind || kind === "special") return undefined;
      return {
        name,
        kind,
        size: stat.size,
        modifiedAt: Math.round(stat.mtimeMs),
        mode: stat.mode & 0o7777,
        links: stat.nlink,
      };
    }),
  );
  return described.filter((entry) => entry !== undefined);
}

/** listNames, then describeEntries. */
export async function readEntries(dir: OpenDir, options: ListNamesOptions): Promise<DirEntry[]> {
  return describeEntries(dir, await listNames(dir, options));
}

function isSpecial(dirent: Dirent): boolean {
  return dirent.isFIFO() || dirent.isSocket() || dirent.isBlockDevice() || dirent.isCharacterDevice();
}

function compareNames(a: EntryName, b: EntryName): number {
  if (a.isDir !== b.isDir) return a.isDir ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
