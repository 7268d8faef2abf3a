/**
 * The last broadcast event lines of one session stream, bounded by count and by bytes (whichever
 * limit is hit first), for `session.subscribe{after_seq}` replay (PROTOCOL.md §1.7-7).
 * Lines are stored encoded, so a replay is byte-identical to the live stream.
 */
export type ReplayResult = { lines: string[]; resync: false } | { resync: true; droppedCount: number };

export class ReplayBuffer {
  private readonly lines: Array<string | undefined>;
  private readonly sizes: Uint32Array;
  private head = 0;
  private count = 0;
  private bytes = 0;
  /** seq of the oldest line held; lines are contiguous in seq. */
  private firstSeq = 1;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {
    this.lines = new Array(maxEvents);
    this.sizes = new Uint32Array(maxEvents);
  }

  get size(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Appends the line of broadcast event `seq`, which must be the previous seq + 1. */
  push(seq: number, line: string): void {
    if (this.count === 0) this.firstSeq = seq;
    const size = Buffer.byteLength(line);
    if (this.count === this.maxEvents) this.dropOldest();
    const slot = (this.head + this.count) % this.maxEvents;
    this.lines[slot] = line;
    this.sizes[slot] = size;
    this.count += 1;
    this.bytes += size;
    // Keep at least the newest line even if it alone exceeds the byte bound.
    while (this.bytes > this.maxBytes && this.count > 1) this.dropOldest();
  }

  /**
   * Lines with seq > afterSeq, given the stream's current seq. `resync` when some of them are
   * no longer held, or when `afterSeq` lies beyond the stream (the client saw another stream).
   */
  since(afterSeq: number, currentSeq: number): ReplayResult {
    if (afterSeq > currentSeq) return { resync: true, droppedCount: 0 };
    if (afterSeq === currentSeq) return { lines: [], resync: false };
    const oldestHeld = this.count === 0 ? currentSeq + 1 : this.firstSeq;
    if (afterSeq + 1 < oldestHeld) return { resync: true, droppedCount: oldestHeld - afterSeq - 1 };
    const lines: string[] = [];
    for (let i = afterSeq + 1 - this.firstSeq; i < this.count; i++) {
      lines.push(this.lines[(this.head + i) % this.maxEvents] as string);
    }
    return { lines, resync: false };
  }

  private dropOldest(): void {
    this.bytes -= this.sizes[this.head] ?? 0;
    this.lines[this.head] = undefined;
    this.head = (this.head + 1) % this.maxEvents;
    this.count -= 1;
    this.firstSeq += 1;
  }
}
