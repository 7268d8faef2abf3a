import { z } from "zod";

/** Version of every protocol in this module (canonical, mux, runner). */
export const PROTOCOL_VERSION = 1;

/** Reserved session id for user-level queries (`list_sessions`, `get_models`). */
export const SYSTEM_SESSION_ID = "_system";

export const SessionId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "invalid session_id");
export const CorrelationId = z.string().min(1).max(128);

export const ERROR_CODES = [
  "invalid_request",
  "unknown_method",
  "unsupported_version",
  "unauthorized",
  "forbidden",
  "not_found",
  "session_not_found",
  "session_not_running",
  "session_busy",
  "path_not_allowed",
  "path_not_found",
  "path_exists",
  "precondition_failed",
  "not_a_directory",
  "not_a_file",
  "permission_denied",
  "too_large",
  "sandbox_error",
  "spawn_failed",
  "harness_error",
  "history_unavailable",
  "watchdog",
  "timeout",
  "busy",
  "slow_consumer",
  "runner_unavailable",
  "not_supported",
  "shutting_down",
  "io_error",
  "internal",
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const AgentPhase = z.enum([
  "initializing",
  "generating",
  "thinking",
  "tool_running",
  "compacting",
  "retrying",
]);
export type AgentPhase = z.infer<typeof AgentPhase>;

export const SessionState = z.enum([
  "starting",
  "idle",
  "streaming",
  "compacting",
  "aborting",
  "stopping",
  "closed",
]);
export type SessionState = z.infer<typeof SessionState>;

export const StopReason = z.enum(["stop", "length", "tool_use", "error", "aborted"]);
export type StopReason = z.infer<typeof StopReason>;

export const ThinkingLevel = z.enum(["off", "minimal", "low", "medium", "high", "xhigh"]);
export type ThinkingLevel = z.infer<typeof ThinkingLevel>;

/** An error carrying a protocol error code; thrown inside runner and server, mapped at the boundary. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Human-readable summary of a zod error: "field: problem; field: problem". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join(".") : "(frame)";
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
