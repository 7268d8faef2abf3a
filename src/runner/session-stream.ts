/**
 * The event stream of one session object: seq numbering (PROTOCOL.md §1.2), the replay buffer
 * (§1.7-7) and delivery to the subscriber.
 */
import type { Config } from "../config/schema.ts";
import { type EventName, type EventPayload, encodeEventLine } from "../protocol/events.ts";
import type { SubscribeResult } from "../protocol/runner.ts";
import { ReplayBuffer } from "./replay-buffer.ts";

export interface SessionStreamOptions {
  sessionId: string;
  runnerId: string;
  runner: Pick<Config["runner"], "replay_buffer_events" | "replay_buffer_bytes">;
  /** Receives the broadcast lines while subscribed. */
  sink(sessionId: string, line: string): void;
}

export class SessionStream {
  /** Identifies this event stream; new each time the runner creates the session object. */
  readonly epoch = crypto.randomUUID();
  private currentSeq = 0;
  private isSubscribed = false;
  private readonly replay: ReplayBuffer;

  constructor(private readonly options: SessionStreamOptions) {
    this.replay = new ReplayBuffer(options.runner.replay_buffer_events, options.runner.replay_buffer_bytes);
  }

  get seq(): number {
    return this.currentSeq;
  }

  get subscribed(): boolean {
    return this.isSubscribed;
  }

  /** Broadcasts one event: next seq, encoded once, kept for replay, delivered if subscribed. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.currentSeq += 1;
    const line = encodeEventLine(
      {
        session_id: this.options.sessionId,
        seq: this.currentSeq,
        runner_id: this.options.runnerId,
        ts: Date.now(),
        event,
      },
      payload,
    );
    this.replay.push(this.currentSeq, line);
    if (this.isSubscribed) this.options.sink(this.options.sessionId, line);
  }

  /** Starts delivery and returns the events after `afterSeq`, or a resync when they were dropped. */
  subscribe(afterSeq: number | undefined, running: boolean): SubscribeResult {
    this.isSubscribed = true;
    const base = { seq: this.currentSeq, epoch: this.epoch, running };
    if (afterSeq === undefined) return { ...base, events: [], resync_required: false };
    const replay = this.replay.since(afterSeq, this.currentSeq);
    if (replay.resync)
      return { ...base, events: [], resync_required: true, dropped_count: replay.droppedCount };
    return { ...base, events: replay.lines, resync_required: false };
  }

  unsubscribe(): void {
    this.isSubscribed = false;
  }
}
