/**
 * Splits a byte stream into LF-terminated lines. Splits on the 0x0A byte only (never on
 * U+2028/U+2029 as readline would), strips a trailing CR, and refuses lines over `maxBytes`.
 */
export class LineSplitter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** After an overflow, bytes are dropped until the end of that line. */
  private discarding = false;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes: number,
    private readonly onOverflow: (bytes: number) => void,
  ) {}

  push(chunk: Uint8Array): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (this.pendingBytes + piece.length > this.maxBytes) {
        this.onOverflow(this.pendingBytes + piece.length);
        this.reset();
        continue;
      }
      let bytes = piece;
      if (this.pending.length > 0) {
        this.pending.push(piece);
        bytes = Buffer.concat(this.pending, this.pendingBytes + piece.length);
        this.reset();
      }
      let end = bytes.length;
      if (end > 0 && bytes[end - 1] === 13) end -= 1;
      if (end > 0) this.onLine(this.decoder.decode(bytes.subarray(0, end)));
    }
    if (start < chunk.length && !this.discarding) {
      const rest = chunk.subarray(start);
      if (this.pendingBytes + rest.length > this.maxBytes) {
        this.onOverflow(this.pendingBytes + rest.length);
        this.reset();
        this.discarding = true;
        return;
      }
      // Copy: the caller may reuse its buffer.
      this.pending.push(rest.slice());
      this.pendingBytes += rest.length;
    }
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}
