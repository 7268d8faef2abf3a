import { ProtocolError } from "../../protocol/index.ts";
import { fileStream } from "./byte-streams.ts";
import { prepareWrite, type WriteTarget } from "./content-ops.ts";
import { closeFd } from "./fd-io.ts";
import { toProtocolError } from "./fs-errors.ts";
import { joinRel, type OpenDir } from "./path-guard.ts";

/** A byte range as in HTTP: `end` inclusive, open-ended when omitted; or the last `suffix` bytes. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

export interface FileReadStream {
  stream: ReadableStream<Uint8Array>;
  /** Size of the whole file. */
  size: number;
  /** First byte and number of bytes the stream yields. */
  start: number;
  length: number;
  mimeType: string;
  modifiedAt: number;
  /** Strong HTTP entity tag of this version of the file. */
  etag: string;
}

/**
 * inode, size and mtime (µs): a replaced file (atomic writes rename a new inode in) or one changed
 * in place gets another tag, so a resumed download never stitches two versions together.
 */
export function entityTag(stat: { ino: number; size: number; mtimeMs: number }): string {
  return `"${stat.ino.toString(16)}-${stat.size.toString(16)}-${Math.round(stat.mtimeMs * 1000).toString(16)}"`;
}

/** Guesses a content type from the file name (Bun's extension table). */
export function mimeTypeOf(name: string): string {
  return Bun.file(name).type;
}

/** Streams a plain file (see assertPlainFile), or a range of it, without holding it in memory. */
export async function openReadStream(
  ws: OpenDir,
  parts: string[],
  range?: ByteRange,
): Promise<FileReadStream> {
  const rel = joinRel(parts);
  const name = parts.at(-1);
  if (name === undefined) throw new ProtocolError("not_a_file", "the workspace itself is a directory");
  await using parent = await ws.walk(parts.slice(0, -1));
  const { fd, stat } = await parent.openFile(name);
  const size = stat.size;
  let start = 0;
  let length = size;
  if (range) {
    const first = "suffix" in range ? Math.max(0, size - range.suffix) : range.start;
    const last = "suffix" in range ? undefined : range.end;
    const end = Math.min(last ?? size - 1, size - 1);
    const valid = Number.isSafeInteger(first) && first >= 0 && first <= end;
    if (!valid || (last !== undefined && !Number.isSafeInteger(last))) {
      await closeFd(fd);
      throw new ProtocolError("invalid_request", `range not satisfiable for '${rel}' (${size} bytes)`, {
        path: rel,
        size,
      });
    }
    start = first;
    length = end - start + 1;
  }
  return {
    stream: fileStream(fd, start, length, (error) => toProtocolError(error, rel)),
    size,
    start,
    length,
    mimeType: mimeTypeOf(name),
    modifiedAt: Math.round(stat.mtimeMs),
    etag: entityTag(stat),
  };
}

/**
 * Writes a request body to a file atomically (temp file, fsync, rename), one chunk at a time, so
 * memory stays bounded whatever the size. Past `maxBytes` the body is cancelled and nothing is
 * written. `created` tells a new file from a replaced one.
 */
export async function writeFromStream(
  ws: OpenDir,
  target: WriteTarget,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<{ size: number; created: boolean }> {
  const { parent, name, existed, pending } = await prepareWrite(ws, target);
  await using dir = parent;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (pending.size + value.length > maxBytes) {
        throw new ProtocolError("too_large", `the body exceeds the limit of ${maxBytes} bytes`, {
          limit: maxBytes,
        });
      }
      await pending.write(value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => undefined);
    await pending.discard(dir);
    throw toProtocolError(error, joinRel(target.parts));
  } finally {
    reader.releaseLock();
  }
  await pending.commit(dir, name, target.overwrite);
  return { size: pending.size, created: !existed };
}
