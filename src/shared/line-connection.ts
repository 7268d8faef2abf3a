import type { Socket } from "bun";
import { encodeBinaryFrameHead, FrameSplitter } from "./frame-splitter.ts";
import { LineSplitter } from "./line-splitter.ts";

export interface LineConnectionOptions {
  maxLineBytes: number;
  /** Outgoing bytes allowed to wait for the peer; beyond it the connection is closed (bounded memory). */
  maxQueuedBytes: number;
  onLine: (line: string) => void;
  onClose: (reason: string) => void;
  /** Accept binary frames between the lines (frame-splitter.ts): their payload piece by piece. */
  binary?: {
    onPayload: (header: string, piece: Uint8Array) => void;
    maxHeaderBytes: number;
    maxPayloadBytes: number;
  };
}

/**
 * JSON-lines over a Bun socket: LF framing in, a bounded write queue out that honours
 * backpressure (partial writes are queued and flushed on drain).
 */
export class LineConnection {
  private readonly splitter: LineSplitter | FrameSplitter;
  private writableWaiters: Array<{ limit: number; resolve: () => void }> = [];
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private closed = false;
  lastReceivedAt = Date.now();

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly options: LineConnectionOptions,
  ) {
    const binary = options.binary;
    this.splitter = binary
      ? new FrameSplitter(
          options.onLine,
          binary.onPayload,
          { maxLineBytes: options.maxLineBytes, ...binary },
          (reason) => this.close(reason),
        )
      : new LineSplitter(options.onLine, options.maxLineBytes, (bytes) =>
          this.close(`line of ${bytes} bytes exceeds ${options.maxLineBytes}`),
        );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Feed bytes received from the socket. */
  receive(chunk: Uint8Array): void {
    this.lastReceivedAt = Date.now();
    this.splitter.push(chunk);
  }

  /** Queue one line (without its LF). Returns false when the connection is closed or over its queue bound. */
  send(line: string): boolean {
    if (this.closed) return false;
    const bytes = Buffer.from(`${line}\n`);
    if (this.queue.length > 0) return this.enqueue(bytes);
    const written = this.socket.write(bytes);
    if (written < bytes.length) return this.enqueue(bytes.subarray(Math.max(written, 0)));
    return true;
  }

  sendJson(value: unknown): boolean {
    return this.send(JSON.stringify(value));
  }

  /** Queues one binary frame. The payload is written as is, never copied: the caller must not change it. */
  sendBinary(header: string, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const head = encodeBinaryFrameHead(header, payload.length);
    if (this.queue.length > 0) return this.enqueue(head) && this.enqueue(payload);
    const written = this.socket.write(head);
    if (written < head.length)
      return this.enqueue(head.subarray(Math.max(written, 0))) && this.enqueue(payload);
    const sent = this.socket.write(payload);
    if (sent < payload.length) return this.enqueue(payload.subarray(Math.max(sent, 0)));
    return true;
  }

  /** Resolves once at most `limit` bytes wait for the peer (at once if so), or the connection closed. */
  whenWritable(limit: number): Promise<void> {
    if (this.closed || this.queuedBytes <= limit) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push({ limit, resolve }));
  }

  /** Call from the socket's drain handler. */
  flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0] as Uint8Array;
      const written = this.socket.write(head);
      if (written < head.length) {
        this.queue[0] = head.subarray(Math.max(written, 0));
        this.queuedBytes -= Math.max(written, 0);
        this.wakeWriters();
        return;
      }
      this.queue.shift();
      this.queuedBytes -= head.length;
    }
    this.wakeWriters();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.wakeWriters();
    this.socket.end();
    this.options.onClose(reason);
  }

  /** Call from the socket's close handler. */
  closedByPeer(): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeWriters();
    this.options.onClose("peer closed the connection");
  }

  private wakeWriters(): void {
    if (this.writableWaiters.length === 0) return;
    const ready = this.writableWaiters.filter((w) => this.closed || this.queuedBytes <= w.limit);
    this.writableWaiters = this.writableWaiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }

  private enqueue(bytes: Uint8Array): boolean {
    if (this.queuedBytes + bytes.length > this.options.maxQueuedBytes) {
      this.close(`peer is not reading (${this.queuedBytes} bytes queued)`);
      return false;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    return true;
  }
}
