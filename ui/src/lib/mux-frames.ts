import { z } from "zod";
import { AgentEvent, EventPayloads, SystemFrame } from "../../../src/protocol/index.ts";

/** A command reply (PROTOCOL.md §1.1). Parsed apart from other events: server-made replies may lack envelope fields. */
const ResponseFrame = EventPayloads.response.extend({ session_id: z.string() });
export type ResponseFrame = z.infer<typeof ResponseFrame>;

export type IncomingFrame =
  | { kind: "response"; frame: ResponseFrame }
  | { kind: "event"; event: AgentEvent }
  | { kind: "system"; frame: SystemFrame }
  | { kind: "ignored"; reason: string };

const Head = z.object({ channel: z.string(), event: z.string().optional() });

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
  if (head.data.channel !== "agent")
    return { kind: "ignored", reason: `unused channel ${head.data.channel}` };
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
