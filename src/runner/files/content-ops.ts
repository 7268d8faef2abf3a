import type { ReadResult } from "../../protocol/files.ts";
import { ProtocolError } from "../../protocol/index.ts";
import { closeFd, readFd } from "./fd-io.ts";
import { toProtocolError } from "./fs-errors.ts";
import { joinRel, type OpenDir } from "./path-guard.ts";
import { checkWriteTarget, PendingFile } from "./pending-file.ts";

/** Reads up to `length` bytes at `offset` of a plain file (see assertPlainFile). */
export async function readRange(
  ws: OpenDir,
  parts: string[],
  offset: number,
  length: number,
): Promise<ReadResult> {
  const rel = joinRel(parts);
  const name = parts.at(-1);
  if (name === undefined) throw new ProtocolError("not_a_file", "the workspace itself is a directory");
  await using parent = await ws.walk(parts.slice(0, -1));
  const { fd, stat } = await parent.openFile(name);
  try {
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, stat.size - offset)));
    let got = 0;
    while (got < buffer.length) {
      const bytesRead = await readFd(fd, buffer, got, buffer.length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return {
      path: rel,
      content: buffer.subarray(0, got).toString("base64"),
      offset,
      size: stat.size,
      eof: offset + got >= stat.size,
    };
  } catch (error) {
    throw toProtocolError(error, rel);
  } finally {
    await closeFd(fd);
  }
}

export interface WriteTarget {
  parts: string[];
  createParents: boolean;
  overwrite: boolean;
}

/** Opens the directory a new file goes into and checks the target may be written (see checkWriteTarget). */
export async function prepareWrite(
  ws: OpenDir,
  target: WriteTarget,
): Promise<{ parent: OpenDir; name: string; existed: boolean; pending: PendingFile }> {
  const name = target.parts.at(-1);
  if (name === undefined) throw new ProtocolError("not_a_file", "the workspace itself is a directory");
  const parent = await ws.walk(target.parts.slice(0, -1), { create: target.createParents });
  try {
    const existing = await checkWriteTarget(parent, name, target.overwrite);
    // A replaced file keeps its mode (an edited script stays executable).
    const pending = await PendingFile.create(parent, existing?.mode);
    return { parent, name, existed: existing !== undefined, pending };
  } catch (error) {
    await parent.close();
    throw error;
  }
}

/** Writes a whole file atomically: temp file, fsync, rename. */
export async function writeWhole(ws: OpenDir, target: WriteTarget, bytes: Uint8Array): Promise<void> {
  const { parent, name, pending } = await prepareWrite(ws, target);
  await using dir = parent;
  try {
    await pending.write(bytes);
  } catch (error) {
    await pending.discard(dir);
    throw toProtocolError(error, joinRel(target.parts));
  }
  await pending.commit(dir, name, target.overwrite);
}
