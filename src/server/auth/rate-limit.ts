/**
 * Fixed-window counters keyed by a string (an IP), with a hard cap on the number of keys
 * so that a flood of distinct keys cannot grow memory without bound.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** Milliseconds until `key` may act again, or 0 when it is under its limit. */
  blockedFor(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now || window.count < this.limit) return 0;
    return window.resetAt - now;
  }

  /** Counts one event for `key`. */
  hit(key: string, now = Date.now()): void {
    const window = this.windows.get(key);
    if (window && window.resetAt > now) {
      window.count += 1;
      return;
    }
    this.windows.delete(key);
    this.makeRoom(now);
    this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  /** Drops expired windows; if still full, the oldest ones (Map order is insertion order). */
  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now) this.windows.delete(key);
    }
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}

/** Failed logins of one account from one client: how many, and when the last one was. */
interface FailureRecord {
  failures: number;
  lastAt: number;
}

/** Failures a client may make for an account before it has to wait. */
const FREE_FAILURES = 3;
const MAX_DELAY_MS = 15 * 60_000;
/** A pair that has not failed for this long starts over. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

/** The wait after `failures` failures: none for the first few, then 2 s, 4 s, 8 s, … up to 15 minutes. */
export function loginDelayMs(failures: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, 1000 * 2 ** (failures - FREE_FAILURES));
}

/**
 * Login and setup limits (PROTOCOL.md §4.3): 10 requests a minute per IP, and failures counted per
 * account *and* client, with a delay that grows with each failure. Keyed by the pair, a guesser
 * elsewhere slows down only itself: the account's owner, from their own client, is never locked
 * out by someone else's failures. An admin can clear an account's delays.
 */
export class AuthRateLimiter {
  private readonly requestsPerIp = new WindowCounter(10, 60_000);
  private readonly failures = new Map<string, FailureRecord>();

  constructor(private readonly maxPairs = 10_000) {}

  /** Counts a request from `ip`; returns the seconds to wait when over the limit, else 0. */
  admitRequest(ip: string, now = Date.now()): number {
    const blocked = this.requestsPerIp.blockedFor(ip, now);
    if (blocked > 0) return toSeconds(blocked);
    this.requestsPerIp.hit(ip, now);
    return 0;
  }

  /** Seconds this client must wait before it may try `username` again, else 0. */
  loginDelayFor(username: string, ip: string, now = Date.now()): number {
    const record = this.failures.get(pairKey(username, ip));
    if (!record) return 0;
    return toSeconds(Math.max(0, record.lastAt + loginDelayMs(record.failures) - now));
  }

  recordFailure(username: string, ip: string, now = Date.now()): void {
    const key = pairKey(username, ip);
    const record = this.failures.get(key);
    const fresh = !record || now - record.lastAt > FORGET_AFTER_MS;
    this.failures.delete(key);
    if (fresh) this.makeRoom(now);
    // Re-inserted, so that Map order stays oldest-failure first for eviction.
    this.failures.set(key, { failures: fresh ? 1 : record.failures + 1, lastAt: now });
  }

  recordSuccess(username: string, ip: string): void {
    this.failures.delete(pairKey(username, ip));
  }

  /** Clears every client's delay for `username` (an admin lifting a lock); returns how many there were. */
  clearUsername(username: string): number {
    const prefix = pairKey(username, "");
    let cleared = 0;
    for (const key of this.failures.keys()) {
      if (key.startsWith(prefix)) {
        this.failures.delete(key);
        cleared += 1;
      }
    }
    return cleared;
  }

  /** Forgets stale pairs; if still full, the ones whose last failure is oldest. */
  private makeRoom(now: number): void {
    if (this.failures.size < this.maxPairs) return;
    for (const [key, record] of this.failures) {
      if (now - record.lastAt > FORGET_AFTER_MS) this.failures.delete(key);
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size < this.maxPairs) break;
      this.failures.delete(key);
    }
  }
}

function pairKey(username: string, ip: string): string {
  return `${username}\0${ip}`;
}

function toSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
