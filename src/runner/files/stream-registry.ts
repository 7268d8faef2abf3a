import { ProtocolError } from "../../protocol/index.ts";

/** Bytes handed out per `files.stream_next` call: big enough for throughput, small enough for one runner line. */
export const STREAM_CHUNK_BYTES = 1024 * 1024;
const MAX_OPEN_STREAMS = 32;
/** A stream nobody reads from for this long is closed (its file descriptor released). */
const IDLE_CLOSE_MS = 60_000;

interface OpenStream {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Bytes read from the source but not yet handed out. */
  leftover: Uint8Array | null;
  idleTimer: Timer;
}

/**
 * Byte streams (file downloads, folder zips) that the server pulls through the runner protocol
 * one chunk at a time, so neither side ever holds a whole file. Bounded in number and idle time.
 */
export class StreamRegistry {
  private readonly streams = new Map<string, OpenStream>();

  open(stream: ReadableStream<Uint8Array>): string {
    if (this.streams.size >= MAX_OPEN_STREAMS) {
      void stream.cancel();
      throw new ProtocolError("busy", `at most ${MAX_OPEN_STREAMS} transfers at once`);
    }
    const id = crypto.randomUUID();
    this.streams.set(id, { reader: stream.getReader(), leftover: null, idleTimer: this.idleTimer(id) });
    return id;
  }

  /** The next chunk (up to STREAM_CHUNK_BYTES) and whether the stream has ended; an ended stream is closed. */
  async next(id: string): Promise<{ data: Uint8Array; eof: boolean }> {
    const open = this.streams.get(id);
    if (!open) throw new ProtocolError("not_found", `no open transfer ${id}`);
    clearTimeout(open.idleTimer);
    const parts: Uint8Array[] = [];
    let size = 0;
    if (open.leftover) {
      parts.push(open.leftover);
      size = open.leftover.length;
      open.leftover = null;
    }
    let eof = false;
    while (size < STREAM_CHUNK_BYTES) {
      const { done, value } = await open.reader.read();
      if (done) {
        eof = true;
        break;
      }
      parts.push(value);
      size += value.length;
    }
    const all = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, size);
    const data = all.subarray(0, Math.min(size, STREAM_CHUNK_BYTES));
    if (all.length > data.length) open.leftover = all.subarray(data.length);
    if (eof && !open.leftover) this.streams.delete(id);
    else open.idleTimer = this.idleTimer(id);
    return { data, eof: eof && !open.leftover };
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

  private idleTimer(id: string): Timer {
    return setTimeout(() => this.close(id), IDLE_CLOSE_MS);
  }
}
