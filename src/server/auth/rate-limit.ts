/**
 * Fixed-window counters keyed by a string (an IP or a username), with a hard cap on the number of keys
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

/**
 * Login and setup limits (PROTOCOL.md §4.3): 10 requests a minute per IP, and 5 failures per 15 minutes per
 * username. The per-username limit stops password guessing spread over many IPs.
 */
export class AuthRateLimiter {
  private readonly requestsPerIp = new WindowCounter(10, 60_000);
  private readonly failuresPerUsername = new WindowCounter(5, 15 * 60_000);

  /** Counts a request from `ip`; returns the seconds to wait when over the limit, else 0. */
  admitRequest(ip: string, now = Date.now()): number {
    const blocked = this.requestsPerIp.blockedFor(ip, now);
    if (blocked > 0) return toSeconds(blocked);
    this.requestsPerIp.hit(ip, now);
    return 0;
  }

  /** Seconds `username` is locked out after too many failures, else 0. */
  usernameLockedFor(username: string, now = Date.now()): number {
    return toSeconds(this.failuresPerUsername.blockedFor(username, now));
  }

  recordFailure(username: string, now = Date.now()): void {
    this.failuresPerUsername.hit(username, now);
  }

  recordSuccess(username: string): void {
    this.failuresPerUsername.reset(username);
  }
}

function toSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
