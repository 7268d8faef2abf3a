import type { z } from "zod";
import { AgentEvent } from "../protocol/events.ts";
import { AgentQueueFrame } from "../protocol/mux.ts";
import type { StreamMessage } from "./event-follower.ts";

/** An admission queue frame as the event stream carries it (`event: queue`, the channel key dropped). */
export const QueueFrame = AgentQueueFrame.omit({ channel: true });
export type QueueFrame = z.infer<typeof QueueFrame>;

/** A message of the stream, checked: a canonical event, a queue frame, or something this client does not know. */
export type TypedMessage =
  | { kind: "event"; event: AgentEvent }
  | { kind: "queue"; frame: QueueFrame }
  | { kind: "unknown" };

export function typeMessage(message: StreamMessage): TypedMessage {
  if (message.event === "queue") {
    const frame = QueueFrame.safeParse(message.json);
    return frame.success ? { kind: "queue", frame: frame.data } : { kind: "unknown" };
  }
  if (message.event !== undefined) return { kind: "unknown" };
  const event = AgentEvent.safeParse(message.json);
  return event.success ? { kind: "event", event: event.data as AgentEvent } : { kind: "unknown" };
}

export type TurnResult =
  | { status: "ok"; cutOff: boolean }
  | { status: "failed"; error: string }
  | { status: "aborted" }
  /** The session's stream ended before its turn did. */
  | { status: "closed"; reason: string };

/**
 * Follows one turn's events to its end (`agent.idle`) and says how it ended: the last stop reason
 * decides, and an error counts unless a retry followed it.
 */
export class TurnOutcome {
  private lastStop: string | undefined;
  private lastError: string | undefined;
  private result: TurnResult | undefined;

  /** Takes one message; returns the result once the turn has ended. */
  take(message: TypedMessage): TurnResult | undefined {
    if (this.result) return this.result;
    if (message.kind === "queue") {
      const { frame } = message;
      if (frame.reason === "failed")
        this.result = { status: "failed", error: frame.error ?? "the queued prompt was refused" };
      else if (frame.reason === "aborted") this.result = { status: "aborted" };
      else if (frame.reason === "closed") this.result = { status: "closed", reason: "closed" };
      return this.result;
    }
    if (message.kind !== "event") return undefined;
    const { event } = message;
    switch (event.event) {
      case "stream.done":
        this.lastStop = event.reason;
        break;
      case "agent.error":
        // The turn itself is done; only saving it failed, and the runner keeps it to write later.
        if (event.code !== "history_unavailable") this.lastError = event.error;
        break;
      case "retry.start":
        this.lastError = undefined;
        break;
      case "retry.end":
        if (!event.success) this.lastError = event.final_error ?? this.lastError;
        break;
      case "agent.idle":
        this.result = this.ending();
        break;
      case "session.closed":
        this.result = { status: "closed", reason: event.reason };
        break;
    }
    return this.result;
  }

  private ending(): TurnResult {
    if (this.lastStop === "aborted") return { status: "aborted" };
    if (this.lastError !== undefined) return { status: "failed", error: this.lastError };
    if (this.lastStop === "error") return { status: "failed", error: "the model stopped with an error" };
    return { status: "ok", cutOff: this.lastStop === "length" };
  }
}
