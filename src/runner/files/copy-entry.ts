import { mkdir, readlink, symlink } from "node:fs/promises";
import { readEntries } from "./dir-entries.ts";
import { closeFd, readFd } from "./fd-io.ts";
import { toProtocolError } from "./fs-errors.ts";
import type { OpenDir } from "./path-guard.ts";
import { PendingFile } from "./pending-file.ts";

const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * Copies the plain file `srcName` (see assertPlainFile) into a new pending file in `dst`, keeping
 * its mode. The caller commits or discards it.
 */
export async function copyFileToPending(src: OpenDir, srcName: string, dst: OpenDir): Promise<PendingFile> {
  const { fd, stat } = await src.openFile(srcName);
  try {
    const pending = await PendingFile.create(dst, stat.mode);
    try {
      const buffer = new Uint8Array(COPY_CHUNK_BYTES);
      for (;;) {
        const bytesRead = await readFd(fd, buffer, 0, buffer.length, pending.size);
        if (bytesRead === 0) break;
        await pending.write(buffer.subarray(0, bytesRead));
      }
      return pending;
    } catch (error) {
      await pending.discard(dst);
      throw toProtocolError(error, src.childRel(srcName));
    }
  } finally {
    await closeFd(fd);
  }
}

/**
 * Copies the directory `srcName` of `src` to the new directory `dstName` of `dst`, recursively.
 * Files are copied as in copyFileToPending (hard-linked ones refused), symlinks are recreated as
 * symlinks (never followed), special files are left out.
 */
export async function copyDirectory(
  src: OpenDir,
  srcName: string,
  dst: OpenDir,
  dstName: string,
): Promise<void> {
  await using from = await src.openDir(srcName);
  try {
    await mkdir(dst.entryPath(dstName));
  } catch (error) {
    throw toProtocolError(error, dst.childRel(dstName));
  }
  await using to = await dst.openDir(dstName);
  for (const entry of await readEntries(from, { includeHidden: true })) {
    if (entry.kind === "directory") {
      await copyDirectory(from, entry.name, to, entry.name);
    } else if (entry.kind === "symlink") {
      try {
        await symlink(await readlink(from.entryPath(entry.name)), to.entryPath(entry.name));
      } catch (error) {
        throw toProtocolError(error, from.childRel(entry.name));
      }
    } else {
      const pending = await copyFileToPending(from, entry.name, to);
      await pending.commit(to, entry.name, false);
    }
  }
}
