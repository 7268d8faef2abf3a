import type { InputRequest } from "../protocol/message.ts";

/** Extension dialogs waiting for the user's `input_response`; expired ones are reported once. */
export class PendingInputs {
  private readonly pending = new Map<
    string,
    { request: InputRequest; timer?: ReturnType<typeof setTimeout> }
  >();

  constructor(private readonly onTimeout: (requestId: string) => void) {}

  add(request: InputRequest, timeoutMs: number | undefined): void {
    this.remove(request.request_id);
    const timer =
      timeoutMs === undefined || timeoutMs <= 0
        ? undefined
        : setTimeout(() => {
            this.pending.delete(request.request_id);
            this.onTimeout(request.request_id);
          }, timeoutMs);
    this.pending.set(request.request_id, { request, ...(timer ? { timer } : {}) });
  }

  /** Removes the request; false when it is not pending (answered, expired or never asked). */
  remove(requestId: string): boolean {
    const entry = this.pending.get(requestId);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.pending.delete(requestId);
    return true;
  }

  list(): InputRequest[] {
    return [...this.pending.values()].map((entry) => entry.request);
  }

  clear(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }
}
