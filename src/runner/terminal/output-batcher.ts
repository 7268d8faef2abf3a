export interface OutputBatchLimits {
  /** Longest time output waits before it is passed on. */
  maxDelayMs: number;
  /** Most bytes passed on at once; a full batch goes out at once. */
  maxBytes: number;
}

export const DEFAULT_OUTPUT_BATCH: OutputBatchLimits = { maxDelayMs: 4, maxBytes: 32 * 1024 };

/**
 * Coalesces PTY output into fewer, larger pushes.
 *
 * Trade-off: a PTY delivers output in many small reads (a `cat` of a big file arrives as
 * thousands of chunks), and every chunk sent alone costs a base64 encode, a JSON line, a relay
 * and a WebSocket frame. Waiting a little merges them, but waiting before every chunk would add
 * that wait to each keystroke echo. So the first chunk after a quiet period goes out at once
 * (echo stays as fast as the PTY), and only the chunks that follow within `maxDelayMs` of a
 * push are merged and sent when that window ends, or sooner once `maxBytes` have gathered. A
 * flood thus costs at most one push per window or per `maxBytes`; a lone keystroke costs no
 * delay.
 */
export class OutputBatcher {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Set while a batching window is open, i.e. output was pushed within the last `maxDelayMs`. */
  private window: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly limits: OutputBatchLimits,
    private readonly emit: (bytes: Uint8Array) => void,
  ) {
    if (!(limits.maxDelayMs >= 0) || !Number.isInteger(limits.maxBytes) || limits.maxBytes < 1) {
      throw new RangeError("output batching needs maxDelayMs >= 0 and a positive integer maxBytes");
    }
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Copied: the PTY reader may reuse its buffer after the callback returns.
    this.pending.push(chunk.slice());
    this.pendingBytes += chunk.length;
    if (this.window === undefined || this.pendingBytes >= this.limits.maxBytes) this.flush();
  }

  /** Passes on everything pending now and opens a new window. */
  flush(): void {
    if (this.pendingBytes === 0) return;
    const joined = this.takePending();
    for (let offset = 0; offset < joined.length; offset += this.limits.maxBytes) {
      this.emit(joined.subarray(offset, offset + this.limits.maxBytes));
    }
    clearTimeout(this.window);
    this.window = setTimeout(() => this.endWindow(), this.limits.maxDelayMs);
  }

  /** Passes on what is pending and stops the window timer; used when the terminal ends. */
  close(): void {
    this.flush();
    clearTimeout(this.window);
    this.window = undefined;
  }

  private endWindow(): void {
    this.window = undefined;
    // Output that gathered during the window goes out now and opens the next window.
    this.flush();
  }

  private takePending(): Uint8Array {
    const chunks = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (chunks.length === 1 && chunks[0]) return chunks[0];
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return joined;
  }
}
