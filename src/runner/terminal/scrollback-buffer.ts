/** How far into a truncated buffer a replay looks for a line start before giving up. */
const LINE_START_SEARCH_BYTES = 4096;
const LF = 0x0a;

/** UTF-8 continuation bytes are 10xxxxxx; a replay must not start in the middle of a character. */
function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/**
 * The last `capacity` bytes a terminal printed, kept in a fixed ring so a flood of output costs
 * no more memory than the bound. Replayed to a client that re-attaches.
 */
export class ScrollbackBuffer {
  private readonly ring: Uint8Array;
  /** Index of the oldest byte. */
  private start = 0;
  private length = 0;
  private overflowed = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`scrollback capacity must be a positive integer, got ${capacity}`);
    }
    this.ring = new Uint8Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  append(bytes: Uint8Array): void {
    if (bytes.length >= this.capacity) {
      this.ring.set(bytes.subarray(bytes.length - this.capacity));
      this.start = 0;
      this.overflowed = this.overflowed || bytes.length > this.capacity || this.length > 0;
      this.length = this.capacity;
      return;
    }
    const dropped = Math.max(0, this.length + bytes.length - this.capacity);
    const end = (this.start + this.length) % this.capacity;
    const firstPart = Math.min(bytes.length, this.capacity - end);
    this.ring.set(bytes.subarray(0, firstPart), end);
    this.ring.set(bytes.subarray(firstPart), 0);
    this.start = (this.start + dropped) % this.capacity;
    this.length += bytes.length - dropped;
    if (dropped > 0) this.overflowed = true;
  }

  /**
   * The buffered bytes, oldest first. Once old output was dropped the cut may fall inside a
   * line, an escape sequence or a character, so the replay starts at the next line when one
   * begins nearby, else at the next character boundary.
   */
  snapshot(): Uint8Array {
    const bytes = new Uint8Array(this.length);
    const firstPart = Math.min(this.length, this.capacity - this.start);
    bytes.set(this.ring.subarray(this.start, this.start + firstPart));
    bytes.set(this.ring.subarray(0, this.length - firstPart), firstPart);
    if (!this.overflowed) return bytes;
    const lineEnd = bytes.subarray(0, LINE_START_SEARCH_BYTES).indexOf(LF);
    if (lineEnd >= 0) return bytes.subarray(lineEnd + 1);
    let first = 0;
    while (first < bytes.length && isContinuationByte(bytes[first] ?? 0)) first++;
    return bytes.subarray(first);
  }
}
