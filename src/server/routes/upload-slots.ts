import { ApiError } from "../http-errors.ts";

/** Counts each user's uploads in flight and refuses one over the limit with a 429. */
export class UploadSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perUser: number) {}

  /** Takes a slot for `userId`; the returned function gives it back (exactly once). */
  take(userId: string): () => void {
    const count = this.inFlight.get(userId) ?? 0;
    if (count >= this.perUser) {
      throw new ApiError(
        "RATE_LIMITED",
        `${this.perUser} uploads of yours are already in progress; wait for one to finish`,
        undefined,
        { "Retry-After": "5" },
      );
    }
    this.inFlight.set(userId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(userId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(userId, left);
      else this.inFlight.delete(userId);
    };
  }
}
