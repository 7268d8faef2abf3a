import { z } from "zod";
import { CorrelationId, ErrorCode } from "./common.ts";

/** Channels of the multiplexed WebSocket (PROTOCOL.md §2). */
export const MuxChannel = z.enum(["agent", "files", "terminal", "history", "system"]);
export type MuxChannel = z.infer<typeof MuxChannel>;

/** Maximum size of one WebSocket text frame, both directions. */
export const MAX_MUX_FRAME_BYTES = 16 * 1024 * 1024;

/** What the server reads first from any client frame: the channel and the correlation id. */
export const MuxFrameHead = z.object({
  channel: z.string(),
  id: CorrelationId.optional(),
});

export const SystemConnected = z.object({
  channel: z.literal("system"),
  type: z.literal("connected"),
  protocol_version: z.number(),
  server_version: z.string(),
  user: z.object({ id: z.string(), username: z.string(), role: z.enum(["user", "admin"]) }),
  ping_interval_ms: z.number(),
});
export const SystemPing = z.object({ channel: z.literal("system"), type: z.literal("ping"), ts: z.number() });
export const SystemError = z.object({
  channel: z.string(),
  type: z.literal("error"),
  id: z.string().optional(),
  error: z.string(),
  code: ErrorCode,
});
export const SystemRunnerStatus = z.object({
  channel: z.literal("system"),
  type: z.literal("runner_status"),
  runner_id: z.string(),
  state: z.enum(["connected", "disconnected"]),
});

export const SystemFrame = z.discriminatedUnion("type", [
  SystemConnected,
  SystemPing,
  SystemError,
  SystemRunnerStatus,
]);
export type SystemFrame = z.infer<typeof SystemFrame>;

/** Why a session left the admission queue (PROTOCOL.md §2.2.1). */
export const AdmissionLeaveReason = z.enum(["admitted", "aborted", "closed", "failed"]);
export type AdmissionLeaveReason = z.infer<typeof AdmissionLeaveReason>;

/**
 * The server's admission queue state of one session (PROTOCOL.md §2.2.1): an ephemeral frame of the
 * agent channel, outside the runner's seq'd stream. `position` counts from 1; `null` with `reason`
 * when the session left the queue (`failed` carries the error of the forwarded command).
 */
export const AgentQueueFrame = z.object({
  channel: z.literal("agent"),
  type: z.literal("queue"),
  session_id: z.string(),
  position: z.number().int().positive().nullable(),
  /** Epoch ms the session joined the queue. */
  queued_at: z.number(),
  /** How many sessions are generating now, and the configured limit (0 = unlimited). */
  generating: z.number().int().nonnegative(),
  limit: z.number().int().nonnegative(),
  reason: AdmissionLeaveReason.optional(),
  error: z.string().optional(),
  code: ErrorCode.optional(),
});
export type AgentQueueFrame = z.infer<typeof AgentQueueFrame>;
