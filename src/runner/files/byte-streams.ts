import { closeFd, readFd } from "./fd-io.ts";

const CHUNK_BYTES = 512 * 1024;

/**
 * A pull-based stream of `length` bytes of an open file from `start`, one fresh buffer per chunk
 * (consumers may keep them). The stream owns the fd: it is closed at the end, on error and on
 * cancel, even when nothing was read, and never while a read is in flight. A file that shrinks
 * while being read errors the stream rather than ending it short.
 */
export function fileStream(
  fd: number,
  start: number,
  length: number,
  mapError: (error: unknown) => unknown,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let position = start;
  let remaining = length;
  let reading: Promise<unknown> = Promise.resolve();
  let closed = false;
  const close = async () => {
    await reading.catch(() => undefined);
    if (closed) return;
    closed = true;
    await closeFd(fd);
  };
  return new ReadableStream<Uint8Array<ArrayBuffer>>(
    {
      async pull(controller) {
        try {
          if (remaining === 0) {
            await close();
            controller.close();
            return;
          }
          const chunk = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, remaining));
          const read = readFd(fd, chunk, 0, chunk.length, position);
          reading = read;
          const bytesRead = await read;
          if (bytesRead === 0) throw new Error(`file shrank while being read (at byte ${position})`);
          position += bytesRead;
          remaining -= bytesRead;
          controller.enqueue(chunk.subarray(0, bytesRead));
        } catch (error) {
          await close();
          controller.error(mapError(error));
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
}

/** A pull-based stream over an async iterator: nothing is read ahead, cancel ends the iterator. */
export function iteratorToStream<T>(iterable: AsyncIterable<T>): ReadableStream<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  return new ReadableStream<T>(
    {
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
