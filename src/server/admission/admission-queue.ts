/** One session waiting for a generating slot, with what the wiring keeps for it. */
export interface QueuedEntry<T> {
  sessionId: string;
  item: T;
  /** Epoch ms it joined the queue. */
  queuedAt: number;
}

/**
 * Admission bookkeeping, pure (no I/O, no timers): which sessions generate now (since when), and the
 * FIFO of sessions waiting for a slot. At most `limit` sessions generate at once (0 = unlimited); a
 * session over the limit waits, and slots go to the queue in order as turns end. Turns the runner
 * starts by itself are counted too (`markGenerating`), so the count may exceed the limit for a while;
 * the queue then waits until it is below again.
 */
export class AdmissionQueue<T> {
  private readonly generating = new Map<string, number>();
  private readonly waiting: QueuedEntry<T>[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`invalid admission limit ${limit}`);
  }

  get generatingCount(): number {
    return this.generating.size;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  isGenerating(sessionId: string): boolean {
    return this.generating.has(sessionId);
  }

  /** Whether one more session may start generating now. */
  hasRoom(): boolean {
    return this.limit === 0 || this.generating.size < this.limit;
  }

  /** Counts a session as generating (a turn that started), whatever the limit. */
  markGenerating(sessionId: string, now: number): void {
    if (!this.generating.has(sessionId)) this.generating.set(sessionId, now);
  }

  /**
   * A session wants to start a turn: true when it may go now (it already generates, or there is room
   * and nobody waits), and it then counts as generating. False: it must wait (`enqueue`).
   */
  tryStart(sessionId: string, now: number): boolean {
    if (this.generating.has(sessionId)) return true;
    if (this.position(sessionId) !== null) return false;
    if (!this.hasRoom() || this.waiting.length > 0) return false;
    this.generating.set(sessionId, now);
    return true;
  }

  /** Puts a session at the end of the queue; resolves with its position (1 = next). */
  enqueue(sessionId: string, item: T, now: number): number {
    if (this.position(sessionId) !== null) throw new Error(`session ${sessionId} is already queued`);
    if (this.generating.has(sessionId)) throw new Error(`session ${sessionId} is generating`);
    this.waiting.push({ sessionId, item, queuedAt: now });
    return this.waiting.length;
  }

  get(sessionId: string): QueuedEntry<T> | undefined {
    return this.waiting.find((entry) => entry.sessionId === sessionId);
  }

  /** 1-based position in the queue, or null when the session does not wait. */
  position(sessionId: string): number | null {
    const index = this.waiting.findIndex((entry) => entry.sessionId === sessionId);
    return index < 0 ? null : index + 1;
  }

  /** Takes a waiting session out of the queue (abort, close); those behind it move up. */
  remove(sessionId: string): QueuedEntry<T> | undefined {
    const index = this.waiting.findIndex((entry) => entry.sessionId === sessionId);
    if (index < 0) return undefined;
    return this.waiting.splice(index, 1)[0];
  }

  /** A session's turn ended (or never started): its slot is free. True if it was generating. */
  finish(sessionId: string): boolean {
    return this.generating.delete(sessionId);
  }

  /** Moves sessions from the head of the queue into the free slots, in order; returns them. */
  admit(now: number): QueuedEntry<T>[] {
    const admitted: QueuedEntry<T>[] = [];
    while (this.waiting.length > 0 && this.hasRoom()) {
      const entry = this.waiting.shift() as QueuedEntry<T>;
      this.generating.set(entry.sessionId, now);
      admitted.push(entry);
    }
    return admitted;
  }

  /** The waiting sessions, head first. */
  entries(): readonly QueuedEntry<T>[] {
    return this.waiting;
  }

  /** The generating sessions with the time each started. */
  generatingSessions(): Array<{ sessionId: string; since: number }> {
    return [...this.generating].map(([sessionId, since]) => ({ sessionId, since }));
  }
}
