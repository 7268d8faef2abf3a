import { constants, existsSync, type Stats } from "node:fs";
import { lstat, mkdir, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { ProtocolError } from "../../protocol/index.ts";
import { closeFd, fstatFd, fsyncFd, openFd } from "./fd-io.ts";
import { errnoOf, toProtocolError } from "./fs-errors.ts";

/*
 * How paths are resolved without a check-then-use gap
 * ---------------------------------------------------
 * Node has no openat(2), so every directory is held open and its children are reached through
 * `/proc/self/fd/<fd>/<name>`. The kernel resolves that magic link to exactly the directory the
 * fd refers to, so only the single component `<name>` is looked up, as openat(fd, name) would.
 * A walk opens one component at a time with O_DIRECTORY|O_NOFOLLOW: a symlink at any component
 * fails the open (ELOOP/ENOTDIR), and a directory swapped for a symlink after a check cannot
 * redirect the walk, because nothing is re-resolved by path afterwards. Files are opened with
 * O_NOFOLLOW|O_NONBLOCK (a FIFO cannot block the open) and then judged by fstat on the opened
 * fd, which is what is actually read. Entry operations (lstat, unlink, rename, mkdir) address
 * `<dir fd>/<name>` and never follow the final component.
 */

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const MAX_NAME_BYTES = 255;

/** Name prefix of files being written; never listed, and no client path may name one. */
export const PARTIAL_PREFIX = ".oqto-partial-";

export function isPartialName(name: string): boolean {
  return name.startsWith(PARTIAL_PREFIX);
}
const MAX_PATH_BYTES = 4096;

export type EntryKind = "file" | "directory" | "symlink" | "special";

export function entryKind(stat: Stats): EntryKind {
  if (stat.isSymbolicLink()) return "symlink";
  if (stat.isDirectory()) return "directory";
  if (stat.isFile()) return "file";
  return "special";
}

/** Workspace-relative display form of path components ("." for the workspace itself). */
export function joinRel(parts: readonly string[]): string {
  return parts.length === 0 ? "." : parts.join("/");
}

/**
 * Splits a client path into components. It must be relative, without NUL bytes, without `..`
 * components (even ones that would stay inside) and without reserved temp names. `[]` names the
 * workspace itself.
 */
export function splitClientPath(path: string): string[] {
  if (path.includes("\0")) throw new ProtocolError("path_not_allowed", "paths must not contain NUL bytes");
  if (path.startsWith("/")) {
    throw new ProtocolError("path_not_allowed", `'${path}' is absolute; paths are relative to the workspace`);
  }
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
    throw new ProtocolError("invalid_request", `path is longer than ${MAX_PATH_BYTES} bytes`);
  }
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) {
    throw new ProtocolError(
      "path_not_allowed",
      `'${path}' contains '..'; paths must stay inside the workspace`,
    );
  }
  if (parts.some(isPartialName)) {
    throw new ProtocolError("path_not_allowed", `names starting with ${PARTIAL_PREFIX} are reserved`);
  }
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES);
  if (long)
    throw new ProtocolError("invalid_request", `a path component is longer than ${MAX_NAME_BYTES} bytes`);
  return parts;
}

/**
 * Refuses anything but a plain regular file: symlinks, directories, special files, and files
 * with several hard links (another link may lie outside the workspace; it cannot be told).
 */
function assertPlainFile(stat: Stats, relPath: string): void {
  const kind = entryKind(stat);
  if (kind === "symlink") throw symlinkRefused(relPath);
  if (kind === "directory")
    throw new ProtocolError("not_a_file", `'${relPath}' is a directory`, { path: relPath });
  if (kind === "special") {
    throw new ProtocolError("path_not_allowed", `'${relPath}' is a special file (FIFO, socket or device)`, {
      path: relPath,
    });
  }
  if (stat.nlink > 1) {
    throw new ProtocolError(
      "path_not_allowed",
      `'${relPath}' has ${stat.nlink} hard links; hard-linked files are refused because a link may lie outside the workspace`,
      { path: relPath },
    );
  }
}

export function symlinkRefused(relPath: string): ProtocolError {
  return new ProtocolError("path_not_allowed", `'${relPath}' is a symbolic link; links are not followed`, {
    path: relPath,
  });
}

/** A directory held open by fd; see the comment at the top of this file. */
export class OpenDir implements AsyncDisposable {
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly parts: readonly string[],
  ) {}

  /** Opens a directory the runner trusts by path (the configured workspace root). */
  static async openTrusted(path: string): Promise<OpenDir> {
    return new OpenDir(await openFd(path, O_RDONLY | O_DIRECTORY), []);
  }

  get relPath(): string {
    return joinRel(this.parts);
  }

  /** Path of this directory for calls that take a path (readdir): the fd's magic link. */
  get fdPath(): string {
    // A closed fd number may already name another file: never build a path from it.
    if (this.closed) throw new Error(`directory '${this.relPath}' used after close`);
    return `/proc/self/fd/${this.fd}`;
  }

  /** Path of the entry `name` inside this directory, looked up relative to the open fd only. */
  entryPath(name: string): string {
    return `${this.fdPath}/${name}`;
  }

  childRel(name: string): string {
    return joinRel([...this.parts, name]);
  }

  /** lstat of an entry; undefined when it does not exist. */
  async lstat(name: string): Promise<Stats | undefined> {
    try {
      return await lstat(this.entryPath(name));
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return undefined;
      throw toProtocolError(error, this.childRel(name));
    }
  }

  /** A second fd on this same directory, labelled with `parts` (the caller closes both). */
  async reopen(parts: readonly string[] = this.parts): Promise<OpenDir> {
    try {
      return new OpenDir(await openFd(`${this.fdPath}/.`, DIR_FLAGS), parts);
    } catch (error) {
      throw toProtocolError(error, joinRel(parts));
    }
  }

  async openDir(name: string): Promise<OpenDir> {
    const rel = this.childRel(name);
    try {
      return new OpenDir(await openFd(this.entryPath(name), DIR_FLAGS), [...this.parts, name]);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "ELOOP") throw symlinkRefused(rel);
      if (errno === "ENOTDIR") {
        // A symlink or a non-directory; what it is now tells which, unless it changed since.
        const kind = await this.lstat(name).then((stat) => stat && entryKind(stat));
        if (kind === "file" || kind === "special") {
          throw new ProtocolError("not_a_directory", `'${rel}' is not a directory`, { path: rel });
        }
        if (kind === "symlink") throw symlinkRefused(rel);
        throw new ProtocolError("path_not_allowed", `'${rel}' was replaced while being opened`, {
          path: rel,
        });
      }
      throw toProtocolError(error, rel);
    }
  }

  /** Opens a child directory, creating it first when missing. */
  async openOrCreateDir(name: string): Promise<OpenDir> {
    try {
      await mkdir(this.entryPath(name));
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw toProtocolError(error, this.childRel(name));
    }
    return this.openDir(name);
  }

  /** Walks down `parts` one component at a time; returns a new OpenDir the caller closes. */
  async walk(parts: readonly string[], options: { create?: boolean } = {}): Promise<OpenDir> {
    let current = await this.reopen();
    try {
      for (const name of parts) {
        const next = options.create ? await current.openOrCreateDir(name) : await current.openDir(name);
        await current.close();
        current = next;
      }
      return current;
    } catch (error) {
      await current.close();
      throw error;
    }
  }

  /**
   * Opens a plain regular file for reading (see assertPlainFile), judged on the opened fd. The
   * caller owns the returned fd and closes it (closeFd).
   */
  async openFile(name: string): Promise<{ fd: number; stat: Stats }> {
    const rel = this.childRel(name);
    const before = await this.lstat(name);
    if (!before) throw new ProtocolError("path_not_found", `'${rel}' does not exist`, { path: rel });
    // Checked before opening too, so that FIFOs and devices are never opened at all.
    assertPlainFile(before, rel);
    let fd: number;
    try {
      fd = await openFd(this.entryPath(name), READ_FLAGS);
    } catch (error) {
      throw errnoOf(error) === "ELOOP" ? symlinkRefused(rel) : toProtocolError(error, rel);
    }
    try {
      const stat = await fstatFd(fd);
      assertPlainFile(stat, rel);
      return { fd, stat };
    } catch (error) {
      await closeFd(fd);
      throw toProtocolError(error, rel);
    }
  }

  /** fsync of the directory, so that a rename into it survives a crash. */
  async sync(): Promise<void> {
    await fsyncFd(this.fd);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeFd(this.fd);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Opens workspaces, which must be real directories (no symlinks) inside the user's workspace root. */
export class PathGuard {
  private realRoot: string | undefined;

  constructor(private readonly workspaceRoot: string) {
    if (!existsSync("/proc/self/fd")) {
      throw new Error("the workspace file service needs Linux with /proc mounted (/proc/self/fd is missing)");
    }
  }

  /** The normalized absolute path of a workspace; throws unless it lies inside the root. */
  async workspaceParts(workspacePath: string): Promise<string[]> {
    if (workspacePath.includes("\0")) {
      throw new ProtocolError("path_not_allowed", "workspace_path must not contain NUL bytes");
    }
    if (!isAbsolute(workspacePath)) {
      throw new ProtocolError("path_not_allowed", `workspace_path '${workspacePath}' must be absolute`);
    }
    const normalized = resolve(workspacePath);
    for (const base of [resolve(this.workspaceRoot), await this.rootRealPath()]) {
      const rel = relative(base, normalized);
      if (rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
        return rel.split(sep);
    }
    throw new ProtocolError(
      "path_not_allowed",
      `workspace_path '${workspacePath}' is not inside the workspace root`,
    );
  }

  /** Opens a workspace; every component below the root is opened without following symlinks. */
  async openWorkspace(workspacePath: string): Promise<OpenDir> {
    const parts = await this.workspaceParts(workspacePath);
    await using root = await OpenDir.openTrusted(await this.rootRealPath());
    let dir: OpenDir;
    try {
      dir = await root.walk(parts);
    } catch (error) {
      if (error instanceof ProtocolError && error.code === "path_not_found") {
        throw new ProtocolError("path_not_found", `workspace '${workspacePath}' does not exist`);
      }
      if (error instanceof ProtocolError && error.code === "path_not_allowed") {
        throw new ProtocolError(
          "path_not_allowed",
          `workspace '${workspacePath}' passes through a symbolic link`,
        );
      }
      throw error;
    }
    await using found = dir;
    return await found.reopen([]);
  }

  /** Absolute real path of a workspace, for APIs that only take paths (fs.watch). */
  async workspaceRealPath(workspacePath: string): Promise<string> {
    return [await this.rootRealPath(), ...(await this.workspaceParts(workspacePath))].join(sep);
  }

  private async rootRealPath(): Promise<string> {
    if (this.realRoot) return this.realRoot;
    try {
      this.realRoot = await realpath(this.workspaceRoot);
      return this.realRoot;
    } catch (error) {
      throw toProtocolError(error, this.workspaceRoot);
    }
  }
}
