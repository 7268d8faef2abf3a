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
 * Fails with `precondition_failed` unless `name` in `dir` is the version tagged `ifMatch`: a file
 * edited from a download is not written over a change made since (a missing file never matches).
 */
async function assertVersion(dir: OpenDir, name: string, ifMatch: string): Promise<void> {
  const current = await dir.lstat(name);
  if (current && entityTag(current) === ifMatch) return;
  const rel = dir.childRel(name);
  throw new ProtocolError(
    "precondition_failed",
    current ? `'${rel}' changed since it was read` : `'${rel}' was deleted since it was read`,
    { path: rel },
  );
}

/**
 * Writes a request body to a file atomically (temp file, fsync, rename), one chunk at a time, so
 * memory stays bounded whatever the size. Past `maxBytes` the body is cancelled and nothing is
 * written. `created` tells a new file from a replaced one; `etag` is the written version's tag.
 * With `ifMatch` the file's version is checked before the body is read and again just before the
 * rename, so a change made during the upload is not overwritten either.
 */
export async function writeFromStream(
  ws: OpenDir,
  target: WriteTarget,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  ifMatch?: string,
): Promise<{ size: number; created: boolean; etag: string }> {
  const { parent, name, existed, pending } = await prepareWrite(ws, target);
  await using dir = parent;
  const checkVersion = ifMatch === undefined ? undefined : () => assertVersion(dir, name, ifMatch);
  const reader = body.getReader();
  try {
    await checkVersion?.();
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
  const written = await pending.commit(dir, name, target.overwrite, checkVersion);
  return { size: pending.size, created: !existed, etag: entityTag(written) };
}
