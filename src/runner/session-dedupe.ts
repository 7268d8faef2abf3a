/**
 * Remembers the `client_id`s of accepted prompt/steer/follow_up commands of one session, so that a
 * client retrying after a lost response does not send its message twice (PROTOCOL.md §2.6).
 */
export const CLIENT_ID_CAPACITY = 512;
export const CLIENT_ID_TTL_MS = 60 * 60 * 1000;

export class ClientIdDedupe {
  /** Insertion-ordered: the first entry is the oldest. */
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly capacity = CLIENT_ID_CAPACITY,
    private readonly ttlMs = CLIENT_ID_TTL_MS,
  ) {}

  has(clientId: string, now = Date.now()): boolean {
    this.expire(now);
    return this.seenAt.has(clientId);
  }

  add(clientId: string, now = Date.now()): void {
    this.seenAt.delete(clientId);
    this.seenAt.set(clientId, now);
    this.expire(now);
    while (this.seenAt.size > this.capacity) {
      const oldest = this.seenAt.keys().next().value;
      if (oldest === undefined) break;
      this.seenAt.delete(oldest);
    }
  }

  /** Forgets an id whose command failed, so that a retry is sent. */
  delete(clientId: string): void {
    this.seenAt.delete(clientId);
  }

  private expire(now: number): void {
    for (const [id, at] of this.seenAt) {
      if (now - at < this.ttlMs) break;
      this.seenAt.delete(id);
    }
  }
}
