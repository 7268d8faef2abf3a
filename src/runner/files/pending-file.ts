import { randomUUID } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { link, rename, unlink } from "node:fs/promises";
import { ProtocolError } from "../../protocol/index.ts";
import { closeFd, fchmodFd, fstatFd, fsyncFd, openFd, writeFd } from "./fd-io.ts";
import { toProtocolError } from "./fs-errors.ts";
import { entryKind, type OpenDir, PARTIAL_PREFIX, symlinkRefused } from "./path-guard.ts";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/**
 * Checks that `name` in `dir` may be (re)placed by a new file: an existing entry must be a
 * regular file and `overwrite` must allow replacing it. Returns the existing entry, if any.
 */
export async function checkWriteTarget(
  dir: OpenDir,
  name: string,
  overwrite: boolean,
): Promise<Stats | undefined> {
  const rel = dir.childRel(name);
  const existing = await dir.lstat(name);
  if (!existing) return undefined;
  const kind = entryKind(existing);
  if (kind === "symlink") throw symlinkRefused(rel);
  if (kind === "directory") throw new ProtocolError("not_a_file", `'${rel}' is a directory`, { path: rel });
  if (kind === "special")
    throw new ProtocolError("path_not_allowed", `'${rel}' is a special file`, { path: rel });
  if (!overwrite) throw new ProtocolError("path_exists", `'${rel}' already exists`, { path: rel });
  return existing;
}

/**
 * A new file written under a hidden temporary name beside its target, and made visible in one
 * step by commit(): fsync, then rename over the target (or link, which refuses to replace, when
 * overwriting is not allowed). Readers see the old content or the new one, never a part.
 */
export class PendingFile {
  private written = 0;
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly tempName: string,
    readonly stat: Stats,
  ) {}

  /** Creates the temp file in `dir`; `mode` (e.g. that of the file it replaces) is applied as is. */
  static async create(dir: OpenDir, mode?: number): Promise<PendingFile> {
    const tempName = `${PARTIAL_PREFIX}${randomUUID()}`;
    let fd: number;
    try {
      fd = await openFd(dir.entryPath(tempName), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
    } catch (error) {
      throw toProtocolError(error, dir.relPath);
    }
    try {
      if (mode !== undefined) await fchmodFd(fd, mode & 0o7777);
      return new PendingFile(fd, tempName, await fstatFd(fd));
    } catch (error) {
      await closeFd(fd);
      await unlink(dir.entryPath(tempName)).catch(() => undefined);
      throw toProtocolError(error, dir.relPath);
    }
  }

  get size(): number {
    return this.written;
  }

  /** Writes all of `bytes` at `position` (default: the end of what was written so far). */
  async write(bytes: Uint8Array, position = this.written): Promise<void> {
    // A closed fd number may already belong to another file.
    if (this.closed) throw new Error("write to a pending file after it was closed");
    let done = 0;
    while (done < bytes.length) {
      done += await writeFd(this.fd, bytes, done, bytes.length - done, position + done);
    }
    this.written = Math.max(this.written, position + bytes.length);
  }

  /**
   * Moves the finished file onto `name` in `dir` (the directory it was created in); `beforeRename`
   * runs last, for a precondition on what it replaces. Returns the committed file's stat (a rename
   * keeps the inode and mtime).
   */
  async commit(
    dir: OpenDir,
    name: string,
    overwrite: boolean,
    beforeRename?: () => Promise<void>,
  ): Promise<Stats> {
    const rel = dir.childRel(name);
    try {
      await fsyncFd(this.fd);
      const written = await fstatFd(this.fd);
      await this.close();
      await this.assertStillOurs(dir);
      await beforeRename?.();
      if (overwrite) {
        await rename(dir.entryPath(this.tempName), dir.entryPath(name));
      } else {
        // link(2) fails with EEXIST instead of replacing, atomically.
        await link(dir.entryPath(this.tempName), dir.entryPath(name));
        await unlink(dir.entryPath(this.tempName));
      }
      await dir.sync();
      return written;
    } catch (error) {
      await this.discard(dir);
      throw toProtocolError(error, rel);
    }
  }

  /** Closes the temp file and removes it from `dir` (if still ours); safe to call more than once. */
  async discard(dir: OpenDir | undefined): Promise<void> {
    await this.close();
    if (!dir) return;
    try {
      await this.assertStillOurs(dir);
      await unlink(dir.entryPath(this.tempName));
    } catch {
      // Already gone or replaced by something that is not ours: nothing of ours to remove.
    }
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeFd(this.fd);
  }

  /** The temp name must still hold the inode we wrote; anything else is not committed or removed. */
  private async assertStillOurs(dir: OpenDir): Promise<void> {
    const current = await dir.lstat(this.tempName);
    if (!current || current.ino !== this.stat.ino || current.dev !== this.stat.dev) {
      throw new ProtocolError("io_error", `the temporary file for '${dir.relPath}' was removed or replaced`);
    }
  }
}
