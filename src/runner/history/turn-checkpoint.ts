import type { Message } from "../../protocol/message.ts";

/** How often a streaming answer's progress is written to history. */
export const CHECKPOINT_INTERVAL_MS = 2_000;

export interface CheckpointTarget {
  /** The streaming answer so far (marked interrupted), if it changed since `sinceRevision`. */
  openPartial(sinceRevision: number): { message: Message; revision: number } | undefined;
}

export interface CheckpointHistory {
  record(message: Message): void;
  flush(): Promise<void>;
}

/**
 * Writes the answer being streamed to history every few seconds, marked interrupted, so that a
 * runner killed mid-turn (SIGKILL: nothing runs after) leaves the part that streamed. The final
 * message replaces the checkpoint at the same idx when the turn ends normally.
 */
export class TurnCheckpoint {
  private timer: Timer | undefined;
  private revision = -1;

  constructor(
    private readonly target: () => CheckpointTarget | undefined,
    private readonly history: CheckpointHistory,
  ) {}

  start(): void {
    if (this.timer) return;
    this.revision = -1;
    this.timer = setInterval(() => this.write(), CHECKPOINT_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private write(): void {
    const partial = this.target()?.openPartial(this.revision);
    if (!partial) return;
    this.revision = partial.revision;
    this.history.record(partial.message);
    void this.history.flush();
  }
}
