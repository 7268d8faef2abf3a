import { z } from "zod";
import {
  AgentEvent,
  AgentQueueFrame,
  ErrorCode,
  EventPayloads,
  SystemFrame,
} from "../../../src/protocol/index.ts";

/** A command reply (PROTOCOL.md §1.1). Parsed apart from other events: server-made replies may lack envelope fields. */
const ResponseFrame = EventPayloads.response.extend({ session_id: z.string() });
export type ResponseFrame = z.infer<typeof ResponseFrame>;

/** Channels whose frames carry `type` and are answered by `id` (PROTOCOL.md §2.2–2.4). */
export const TYPED_CHANNELS = ["files", "terminal", "history"] as const;
export type TypedChannel = (typeof TYPED_CHANNELS)[number];

/**
 * A frame of a typed channel: a reply (its `id` names the request) or a push. Only the head is checked
 * here; whoever consumes the frame validates the rest with the schema of the reply it expects.
 */
const ChannelFrame = z.looseObject({
  channel: z.enum(TYPED_CHANNELS),
  id: z.string().optional(),
  type: z.string(),
});
export type ChannelFrame = z.infer<typeof ChannelFrame>;

/** The `error` reply of a typed channel. */
export const ChannelError = z.object({ type: z.literal("error"), error: z.string(), code: ErrorCode });

export type IncomingFrame =
  | { kind: "response"; frame: ResponseFrame }
  | { kind: "event"; event: AgentEvent }
  /** A session's place in the server's admission queue (PROTOCOL.md §2.2.1); not a seq'd event. */
  | { kind: "queue"; frame: AgentQueueFrame }
  | { kind: "system"; frame: SystemFrame }
  | { kind: "channel"; frame: ChannelFrame }
  | { kind: "ignored"; reason: string };

const Head = z.object({ channel: z.string(), event: z.string().optional(), type: z.string().optional() });

/** Validates one incoming WebSocket text frame. Anything malformed is reported, never applied. */
export function parseIncomingFrame(text: string): IncomingFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "ignored", reason: "frame is not JSON" };
  }
  const head = Head.safeParse(json);
  if (!head.success) return { kind: "ignored", reason: "frame has no channel" };
  if (head.data.channel === "system") {
    const system = SystemFrame.safeParse(json);
    return system.success
      ? { kind: "system", frame: system.data }
      : { kind: "ignored", reason: `invalid system frame: ${system.error.message}` };
  }
  if (head.data.channel !== "agent") {
    const frame = ChannelFrame.safeParse(json);
    return frame.success
      ? { kind: "channel", frame: frame.data }
      : { kind: "ignored", reason: `invalid ${head.data.channel} frame: ${frame.error.message}` };
  }
  if (head.data.type === "queue") {
    const queue = AgentQueueFrame.safeParse(json);
    return queue.success
      ? { kind: "queue", frame: queue.data }
      : { kind: "ignored", reason: `invalid queue frame: ${queue.error.message}` };
  }
  if (head.data.event === "response") {
    const response = ResponseFrame.safeParse(json);
    return response.success
      ? { kind: "response", frame: response.data }
      : { kind: "ignored", reason: `invalid response: ${response.error.message}` };
  }
  const event = AgentEvent.safeParse(json);
  return event.success
    ? { kind: "event", event: event.data as AgentEvent }
    : { kind: "ignored", reason: `invalid ${head.data.event ?? "agent"} event: ${event.error.message}` };
}
