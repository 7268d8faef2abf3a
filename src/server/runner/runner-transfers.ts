import {
  FilesFinishWriteResult,
  FilesStreamReadResult,
  MAX_DATA_FRAME_PAYLOAD_BYTES,
  ProtocolError,
} from "../../protocol/index.ts";
import type { RunnerClient } from "./runner-client.ts";

/** Bytes one `files.stream_read` asks for; the runner sends them as data frames of ≤ 1 MiB. */
const READ_BYTES = 4 * 1024 * 1024;
/** Bytes of one download that may be queued here or on their way: what serve holds per download. */
const READ_WINDOW_BYTES = 16 * 1024 * 1024;
/** An upload asks the runner to confirm the disk took its bytes every this many bytes... */
const SYNC_EVERY_BYTES = 2 * 1024 * 1024;
/** ...and stops sending while this many confirmations are outstanding (≈ 6 MiB in flight). */
const MAX_PENDING_SYNCS = 2;

/**
 * A response body reading runner transfer `streamId` (a file or a zip): reads are issued ahead
 * while fewer than READ_WINDOW_BYTES are queued or on their way, and only as the HTTP client takes
 * bytes, so a slow client holds the runner back instead of filling serve's memory.
 */
export function readTransfer(
  runner: RunnerClient,
  streamId: string,
  timeoutMs: number,
): ReadableStream<Uint8Array> {
  const queue: Uint8Array[] = [];
  let queuedBytes = 0;
  /** Bytes asked for and not yet received. */
  let inflightBytes = 0;
  let reads = 0;
  let eof = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const stopReceiving = runner.receiveData(streamId, (payload) => {
    queue.push(payload);
    queuedBytes += payload.length;
    inflightBytes -= payload.length;
    notify();
  });
  const readAhead = () => {
    while (!eof && failure === undefined && queuedBytes + inflightBytes + READ_BYTES <= READ_WINDOW_BYTES) {
      reads += 1;
      inflightBytes += READ_BYTES;
      runner
        .request("files.stream_read", { stream_id: streamId, max_bytes: READ_BYTES }, timeoutMs)
        .then(
          (raw) => {
            const result = FilesStreamReadResult.parse(raw);
            // Every frame of this read arrived before its response; what it did not fill is freed.
            inflightBytes -= READ_BYTES - result.bytes;
            if (result.eof) eof = true;
          },
          (error: unknown) => {
            // Reads issued past the end fail once the runner closed the stream: not an error.
            if (!eof) failure ??= error;
          },
        )
        .finally(() => {
          reads -= 1;
          notify();
        });
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          readAhead();
          if (queue.length > 0) {
            // Everything that arrived goes out at once: the socket cut it into small pieces.
            for (const piece of queue.splice(0)) controller.enqueue(piece);
            queuedBytes = 0;
            return;
          }
          if (failure !== undefined) {
            stopReceiving();
            controller.error(failure);
            return;
          }
          if (eof && reads === 0) {
            stopReceiving();
            controller.close();
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
      cancel() {
        stopReceiving();
        eof = true;
        runner.request("files.stream_close", { stream_id: streamId }, timeoutMs).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Streams `body` into runner upload `streamId` (opened with `files.open_write`) as data frames of
 * up to 1 MiB, never more than about SYNC_EVERY_BYTES × (MAX_PENDING_SYNCS + 1) ahead of the disk,
 * then commits it. A failure leaves the upload open: the caller closes it.
 */
export async function writeTransfer(
  runner: RunnerClient,
  streamId: string,
  body: AsyncIterable<Uint8Array>,
  timeoutMs: number,
): Promise<{ path: string; size: number; created: boolean; etag: string }> {
  const syncs: Promise<unknown>[] = [];
  let sinceSync = 0;
  let frame = Buffer.allocUnsafe(MAX_DATA_FRAME_PAYLOAD_BYTES);
  let fill = 0;
  const sendFrame = async () => {
    if (fill === 0) return;
    // A fresh buffer per frame: the connection may still hold the last one in its queue.
    const payload = frame.subarray(0, fill);
    frame = Buffer.allocUnsafe(MAX_DATA_FRAME_PAYLOAD_BYTES);
    fill = 0;
    if (!(await runner.sendData(streamId, payload))) {
      throw new ProtocolError("runner_unavailable", "the runner connection closed mid-upload");
    }
    sinceSync += payload.length;
    if (sinceSync >= SYNC_EVERY_BYTES) {
      sinceSync = 0;
      const sync = runner.request("files.stream_sync", { stream_id: streamId }, timeoutMs);
      sync.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
      syncs.push(sync);
      if (syncs.length > MAX_PENDING_SYNCS) await syncs.shift();
    }
  };
  for await (const piece of body) {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(frame.length - fill, piece.length - at);
      frame.set(piece.subarray(at, at + take), fill);
      fill += take;
      at += take;
      if (fill === frame.length) await sendFrame();
    }
  }
  await sendFrame();
  for (const sync of syncs) await sync;
  return FilesFinishWriteResult.parse(
    await runner.request("files.finish_write", { stream_id: streamId }, timeoutMs),
  );
}
