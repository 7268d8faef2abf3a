import { z } from "zod";
import { AgentPhase, ErrorCode, StopReason } from "./common.ts";
import { InputRequest, Message } from "./message.ts";

/**
 * Payloads of canonical events (PROTOCOL.md §1.3), keyed by event name. The envelope
 * (`session_id, runner_id, ts, seq, event`) is added by `encodeEventLine`.
 */
export const EventPayloads = {
  response: z.object({
    id: z.string().optional(),
    cmd: z.string(),
    success: z.boolean(),
    data: z.unknown().optional(),
    error: z.string().optional(),
    error_code: ErrorCode.optional(),
  }),
  "session.created": z.object({
    resumed: z.boolean(),
    harness: z.string(),
    workspace_path: z.string(),
    pi_session_id: z.string().optional(),
  }),
  "session.closed": z.object({
    reason: z.enum(["closed", "deleted", "replaced", "idle_timeout", "exited", "runner_shutdown"]),
    next_session_id: z.string().optional(),
    exit_code: z.number().optional(),
  }),
  "session.title_changed": z.object({ title: z.string(), readable_id: z.string().optional() }),
  "agent.working": z.object({ phase: AgentPhase, detail: z.string().optional() }),
  "agent.idle": z.object({
    message_version: z.object({ version: z.number(), message_count: z.number() }).optional(),
  }),
  "agent.error": z.object({
    error: z.string(),
    recoverable: z.boolean(),
    phase: AgentPhase.optional(),
    code: z.string().optional(),
  }),
  "agent.input_needed": z.object({ request: InputRequest }),
  "agent.input_resolved": z.object({
    request_id: z.string(),
    reason: z.enum(["answered", "cancelled", "timeout"]),
  }),
  "stream.message_start": z.object({
    message_id: z.string(),
    role: z.enum(["user", "assistant", "tool", "system"]),
    idx: z.number(),
  }),
  "stream.text_delta": z.object({ message_id: z.string(), delta: z.string(), content_index: z.number() }),
  "stream.thinking_delta": z.object({ message_id: z.string(), delta: z.string(), content_index: z.number() }),
  "stream.tool_call_start": z.object({
    message_id: z.string(),
    tool_call_id: z.string(),
    name: z.string(),
    content_index: z.number(),
  }),
  "stream.tool_call_delta": z.object({
    message_id: z.string(),
    tool_call_id: z.string(),
    delta: z.string(),
    content_index: z.number(),
  }),
  "stream.tool_call_end": z.object({
    message_id: z.string(),
    tool_call_id: z.string(),
    tool_call: z.object({ id: z.string(), name: z.string(), input: z.unknown() }),
    content_index: z.number(),
  }),
  "stream.message_end": z.object({ message: Message }),
  "stream.done": z.object({ reason: StopReason }),
  "stream.resync_required": z.object({
    dropped_count: z.number(),
    reason: z.enum(["replay_window", "slow_consumer", "epoch_changed"]),
    current_seq: z.number(),
    epoch: z.string(),
  }),
  "tool.start": z.object({ tool_call_id: z.string(), name: z.string(), input: z.unknown().optional() }),
  "tool.progress": z.object({ tool_call_id: z.string(), name: z.string(), partial_output: z.string() }),
  "tool.end": z.object({
    tool_call_id: z.string(),
    name: z.string(),
    output: z.string(),
    is_error: z.boolean(),
    duration_ms: z.number().optional(),
  }),
  "retry.start": z.object({
    attempt: z.number(),
    max_attempts: z.number(),
    delay_ms: z.number(),
    error: z.string(),
  }),
  "retry.end": z.object({ success: z.boolean(), attempt: z.number(), final_error: z.string().optional() }),
  "compact.start": z.object({ reason: z.enum(["manual", "threshold", "overflow"]) }),
  "compact.end": z.object({
    success: z.boolean(),
    will_retry: z.boolean(),
    error: z.string().optional(),
    summary: z.string().optional(),
    tokens_before: z.number().optional(),
  }),
  "config.model_changed": z.object({ provider: z.string(), model_id: z.string() }),
  "config.thinking_level_changed": z.object({ level: z.string() }),
  "queue.updated": z.object({ steering: z.array(z.string()), follow_up: z.array(z.string()) }),
  notify: z.object({ level: z.enum(["info", "warning", "error"]), message: z.string() }),
  status: z.object({ key: z.string(), text: z.string().nullable() }),
} as const;

export type EventName = keyof typeof EventPayloads;
export type EventPayload<E extends EventName> = z.infer<(typeof EventPayloads)[E]>;

/** Events that go to one subscriber and are never replayed; they carry the current seq. */
export const ADDRESSED_EVENTS: ReadonlySet<EventName> = new Set(["response", "stream.resync_required"]);

export const EventEnvelope = z.object({
  session_id: z.string(),
  runner_id: z.string(),
  ts: z.number(),
  seq: z.number().int().nonnegative(),
  /**
   * Only on a coalesced delta frame (PROTOCOL.md §2.4): the first seq it covers; `seq` is the last.
   * The frame stands for every event `seq_from..seq`, so that gap is no loss.
   */
  seq_from: z.number().int().positive().optional(),
  event: z.string(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** Discriminated union of every canonical event, envelope included (used by the UI and tests). */
export const AgentEvent = z.discriminatedUnion(
  "event",
  Object.entries(EventPayloads).map(([name, payload]) =>
    EventEnvelope.extend({ event: z.literal(name) }).extend(payload.shape),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);
export type AgentEvent = {
  [E in EventName]: EventEnvelope & { event: E } & EventPayload<E>;
}[EventName];
export type AgentEventOf<E extends EventName> = Extract<AgentEvent, { event: E }>;
export type ResponseEvent = AgentEventOf<"response">;

/** Prefix of every runner event line; the relay swaps it for `MUX_EVENT_PREFIX` without parsing (§3.5). */
export const RUNNER_EVENT_PREFIX = '{"type":"event",';
export const MUX_EVENT_PREFIX = '{"channel":"agent",';

/**
 * Encodes an event as one runner line with the envelope keys first and in fixed order, so that
 * the relay can read `session_id` and `seq` without parsing the whole line.
 */
export function encodeEventLine<E extends EventName>(
  envelope: EventEnvelope & { event: E },
  payload: EventPayload<E>,
): string {
  const head = `${RUNNER_EVENT_PREFIX}"session_id":${JSON.stringify(envelope.session_id)},"seq":${envelope.seq},"runner_id":${JSON.stringify(envelope.runner_id)},"ts":${envelope.ts},"event":${JSON.stringify(envelope.event)}`;
  const body = JSON.stringify(payload);
  return body === "{}" ? `${head}}` : `${head},${body.slice(1)}`;
}

/** Reads `session_id`, `seq` and `event` from the fixed leading keys of an event line, without parsing it. */
export function peekEventLine(line: string): { sessionId: string; seq: number; event: string } | null {
  if (!line.startsWith(RUNNER_EVENT_PREFIX)) return null;
  const sidStart = RUNNER_EVENT_PREFIX.length + '"session_id":"'.length;
  const sidEnd = line.indexOf('"', sidStart);
  if (sidEnd < 0) return null;
  const seqStart = sidEnd + '","seq":'.length;
  const seqEnd = line.indexOf(",", seqStart);
  const seq = Number(line.slice(seqStart, seqEnd));
  if (seqEnd < 0 || !Number.isInteger(seq)) return null;
  const eventKey = line.indexOf(',"event":"', seqEnd);
  if (eventKey < 0) return null;
  const eventStart = eventKey + ',"event":"'.length;
  const eventEnd = line.indexOf('"', eventStart);
  if (eventEnd < 0) return null;
  return { sessionId: line.slice(sidStart, sidEnd), seq, event: line.slice(eventStart, eventEnd) };
}

/** Turns a runner event line into a mux frame by swapping the prefix: the same bytes otherwise. */
export function runnerLineToMuxFrame(line: string): string {
  return MUX_EVENT_PREFIX + line.slice(RUNNER_EVENT_PREFIX.length);
}
