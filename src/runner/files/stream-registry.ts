import { MAX_DATA_FRAME_PAYLOAD_BYTES, ProtocolError } from "../../protocol/index.ts";

const MAX_OPEN_STREAMS = 32;
/** A stream nobody reads from for this long is closed (its file descriptor released). */
const IDLE_CLOSE_MS = 60_000;

/**
 * Sends one data frame of a transfer to the server; resolves once the connection can take more
 * (socket backpressure), false when there is no connection to send on.
 */
export type SendData = (streamId: string, payload: Uint8Array) => Promise<boolean>;

interface OpenStream {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Bytes read from the source but not yet sent. */
  leftover: Uint8Array | null;
  /** The source's next chunk, asked for while the last one is sent (disk and socket overlap). */
  ahead: ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]> | null;
  idleTimer: Timer;
  /** The read in progress: reads of one stream run one after another. */
  reading: Promise<unknown>;
}

/**
 * Byte streams (file downloads, folder zips) the server reads through the runner protocol: each
 * `files.stream_read` sends up to the bytes it asks for as data frames, so the server's window,
 * not the file's size, bounds what is in flight. Bounded in number and idle time.
 */
export class StreamRegistry {
  private readonly streams = new Map<string, OpenStream>();

  constructor(private readonly send: SendData) {}

  open(stream: ReadableStream<Uint8Array>): string {
    if (this.streams.size >= MAX_OPEN_STREAMS) {
      void stream.cancel();
      throw new ProtocolError("busy", `at most ${MAX_OPEN_STREAMS} transfers at once`);
    }
    const id = crypto.randomUUID();
    this.streams.set(id, {
      reader: stream.getReader(),
      leftover: null,
      ahead: null,
      idleTimer: this.idleTimer(id),
      reading: Promise.resolve(),
    });
    return id;
  }

  /**
   * Sends up to `maxBytes` of the stream as data frames (before this call resolves, so before its
   * response on the same socket) and says whether the stream ended; an ended stream is closed.
   */
  read(id: string, maxBytes: number): Promise<{ bytes: number; eof: boolean }> {
    const open = this.streams.get(id);
    if (!open) return Promise.reject(new ProtocolError("not_found", `no open transfer ${id}`));
    const run = open.reading.then(() => this.readNow(id, open, maxBytes));
    open.reading = run.catch(() => undefined);
    return run;
  }

  close(id: string): void {
    const open = this.streams.get(id);
    if (!open) return;
    clearTimeout(open.idleTimer);
    this.streams.delete(id);
    void open.reader.cancel().catch(() => {});
  }

  closeAll(): void {
    for (const id of [...this.streams.keys()]) this.close(id);
  }

  private async readNow(id: string, open: OpenStream, maxBytes: number) {
    if (this.streams.get(id) !== open) throw new ProtocolError("not_found", `no open transfer ${id}`);
    clearTimeout(open.idleTimer);
    let bytes = 0;
    let eof = false;
    try {
      while (bytes < maxBytes) {
        let piece: Uint8Array;
        if (open.leftover) {
          piece = open.leftover;
          open.leftover = null;
        } else {
          const next = await (open.ahead ?? open.reader.read());
          open.ahead = null;
          if (next.done) {
            eof = true;
            break;
          }
          piece = next.value;
          const ahead = open.reader.read();
          ahead.catch(() => undefined); // its failure surfaces when it is awaited
          open.ahead = ahead;
        }
        const room = Math.min(maxBytes - bytes, MAX_DATA_FRAME_PAYLOAD_BYTES);
        if (piece.length > room) {
          open.leftover = piece.subarray(room);
          piece = piece.subarray(0, room);
        }
        if (piece.length === 0) continue;
        if (!(await this.send(id, piece))) {
          throw new ProtocolError("runner_unavailable", "the server connection closed mid-transfer");
        }
        bytes += piece.length;
      }
    } catch (error) {
      this.close(id);
      throw error;
    }
    if (eof) this.close(id);
    else open.idleTimer = this.idleTimer(id);
    return { bytes, eof };
  }

  private idleTimer(id: string): Timer {
    return setTimeout(() => this.close(id), IDLE_CLOSE_MS);
  }
}
