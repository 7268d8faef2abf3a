const WINDOW_MS = 60_000;

/**
 * Amounts (requests, tokens) spent in the last minute, per user: a sliding window of timestamped entries,
 * pruned on each read, so a user's rate is exact and memory stays bounded by what a minute can hold.
 */
export class RateWindow {
  private readonly entries = new Map<string, { at: number; amount: number }[]>();

  add(userId: string, amount: number, now = Date.now()): void {
    if (amount <= 0) return;
    const list = this.entries.get(userId);
    if (list) list.push({ at: now, amount });
    else this.entries.set(userId, [{ at: now, amount }]);
  }

  /** The sum within the last minute, and when the oldest of it leaves the window. */
  read(userId: string, now = Date.now()): { sum: number; oldestAt: number | undefined } {
    const list = this.entries.get(userId);
    if (!list) return { sum: 0, oldestAt: undefined };
    let first = 0;
    while (first < list.length && (list[first]?.at ?? 0) <= now - WINDOW_MS) first++;
    if (first > 0) list.splice(0, first);
    if (list.length === 0) {
      this.entries.delete(userId);
      return { sum: 0, oldestAt: undefined };
    }
    return { sum: list.reduce((total, entry) => total + entry.amount, 0), oldestAt: list[0]?.at };
  }

  /** Seconds until the window has room again, given that its oldest entry is `oldestAt`. */
  static secondsUntilFree(oldestAt: number | undefined, now = Date.now()): number {
    return oldestAt === undefined ? 0 : Math.max(1, Math.ceil((oldestAt + WINDOW_MS - now) / 1000));
  }
}
