import { z } from "zod";
import { Command } from "./commands.ts";
import { AgentPhase, ErrorCode, PROTOCOL_VERSION, SessionId, SessionState } from "./common.ts";
import { FileChangedPush, FilesMethods, FilesTransferMethods } from "./files.ts";
import {
  HistoryDeleteParams,
  HistoryGetParams,
  HistoryListParams,
  HistoryMessagesParams,
  HistoryRenameParams,
  HistorySearchParams,
} from "./history.ts";
import { TerminalExitPush, TerminalMethods, TerminalOutputPush } from "./terminal.ts";

/** Maximum size of one runner line (PROTOCOL.md §3.1). */
export const MAX_RUNNER_LINE_BYTES = 16 * 1024 * 1024;
export const RUNNER_HEARTBEAT_MS = 10_000;
export const RUNNER_SILENCE_LIMIT_MS = 30_000;
export const RUNNER_HELLO_TIMEOUT_MS = 5_000;

export const ServerHello = z.strictObject({
  type: z.literal("hello"),
  protocol_version: z.number().int(),
  role: z.literal("server"),
  server_version: z.string(),
  token: z.string().optional(),
});
export type ServerHello = z.infer<typeof ServerHello>;

export const RunnerCapabilities = z.object({
  harnesses: z.array(z.string()),
  pi_version: z.string(),
  sandbox: z.object({ enabled: z.boolean(), backend: z.string(), version: z.string().optional() }),
  history: z.object({ mode: z.enum(["embedded", "external", "none"]) }),
  features: z.array(z.string()),
  max_sessions: z.number(),
  replay_buffer_events: z.number(),
});

export const RunnerHello = z.object({
  type: z.literal("hello"),
  protocol_version: z.number().int(),
  role: z.literal("runner"),
  runner_id: z.string(),
  runner_version: z.string(),
  user: z.string(),
  uid: z.number(),
  pid: z.number(),
  started_at: z.number(),
  capabilities: RunnerCapabilities,
});
export type RunnerHello = z.infer<typeof RunnerHello>;

export const RunnerRequest = z.strictObject({
  type: z.literal("request"),
  id: z.string().min(1).max(128),
  method: z.string(),
  params: z.unknown(),
});
export type RunnerRequest = z.infer<typeof RunnerRequest>;

export const RunnerErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type RunnerErrorBody = z.infer<typeof RunnerErrorBody>;

export const RunnerResponse = z.union([
  z.object({ type: z.literal("response"), id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal("response"), id: z.string(), ok: z.literal(false), error: RunnerErrorBody }),
]);
export type RunnerResponse = z.infer<typeof RunnerResponse>;

export const Heartbeat = z.object({
  type: z.literal("heartbeat"),
  ts: z.number(),
  sessions: z.number().optional(),
  terminals: z.number().optional(),
  rss_bytes: z.number().optional(),
});

export const RunnerErrorFrame = z.object({ type: z.literal("error"), code: ErrorCode, message: z.string() });

/** One pi process's LLM token, as the runner registers it with the gateway: only its SHA-256. */
export const LlmTokenEntry = z.strictObject({
  token_hash: z.string().regex(/^[0-9a-f]{64}$/),
  session_id: SessionId,
});
export type LlmTokenEntry = z.infer<typeof LlmTokenEntry>;

/** A pi process started (`add`) or ended (`remove`): its token lives exactly as long. */
export const LlmTokenPush = LlmTokenEntry.extend({
  type: z.literal("llm_token"),
  op: z.enum(["add", "remove"]),
});
export type LlmTokenPush = z.infer<typeof LlmTokenPush>;

/**
 * Every live token, pushed right after the runner's hello: it replaces what the runner's earlier
 * connection registered. A push, not a reply to a request, so that it is applied strictly before any
 * `llm_token` the runner sends after it.
 */
export const LlmTokensPush = z.strictObject({
  type: z.literal("llm_tokens"),
  tokens: z.array(LlmTokenEntry),
});
export type LlmTokensPush = z.infer<typeof LlmTokensPush>;

/** Unsolicited frames the runner pushes beside events: file watches, terminal output and LLM tokens. */
export const RunnerPush = z.discriminatedUnion("type", [
  FileChangedPush,
  TerminalOutputPush,
  TerminalExitPush,
  LlmTokenPush,
  LlmTokensPush,
]);
export type RunnerPush = z.infer<typeof RunnerPush>;

/** Frames the server may send after the hello. */
export const ServerFrame = z.discriminatedUnion("type", [RunnerRequest, Heartbeat]);
/** Non-event frames the runner may send after the hello (event lines are routed before parsing). */
export const RunnerFrame = z.union([RunnerResponse, Heartbeat, RunnerErrorFrame, RunnerPush]);

export function isCompatibleVersion(version: number): boolean {
  return version === PROTOCOL_VERSION;
}

/** Params and results of runner methods (PROTOCOL.md §3.4). */
/** One running session as `runner.status` lists it (the admin's running-sessions view). */
export const RunningSession = z.object({
  session_id: SessionId,
  state: SessionState,
  phase: AgentPhase.optional(),
  workspace_path: z.string(),
  pi_session_id: z.string().optional(),
  pid: z.number().int().optional(),
  seq: z.number().int(),
  epoch: z.string(),
});
export type RunningSession = z.infer<typeof RunningSession>;
export const RunnerStatusResult = z.object({ sessions: z.array(RunningSession) }).loose();

export const RunnerMethods = {
  "runner.status": { params: z.strictObject({}) },
  "runner.shutdown": { params: z.strictObject({ grace_s: z.number().nonnegative().max(60).optional() }) },
  "agent.command": {
    params: z.strictObject({ command: Command, user_display_name: z.string().optional() }),
  },
  "agent.subscribe": {
    params: z.strictObject({ session_id: SessionId, after_seq: z.number().int().nonnegative().optional() }),
  },
  "agent.unsubscribe": { params: z.strictObject({ session_id: SessionId }) },
  "workspace.list": { params: z.strictObject({}) },
  "workspace.create": {
    params: z.strictObject({ name: z.string(), display_name: z.string().max(200).optional() }),
  },
  "history.list": { params: HistoryListParams },
  "history.get": { params: HistoryGetParams },
  "history.messages": { params: HistoryMessagesParams },
  "history.search": { params: HistorySearchParams },
  "history.rename": { params: HistoryRenameParams },
  "history.delete": { params: HistoryDeleteParams },
  ...FilesMethods,
  ...FilesTransferMethods,
  ...TerminalMethods,
  "sandbox.get": { params: z.strictObject({ workspace_path: z.string().min(1).max(4096) }) },
  "sandbox.set": {
    params: z.strictObject({
      workspace_path: z.string().min(1).max(4096),
      profile: z.string().min(1).max(64),
    }),
  },
  "models.write": {
    params: z.strictObject({
      models_json: z.record(z.string(), z.unknown()),
      settings: z.record(z.string(), z.unknown()).optional(),
    }),
  },
} as const;
export type RunnerMethod = keyof typeof RunnerMethods;
export type RunnerParams<M extends RunnerMethod> = z.infer<(typeof RunnerMethods)[M]["params"]>;

export const SubscribeResult = z.object({
  seq: z.number(),
  epoch: z.string(),
  running: z.boolean(),
  /** Replayed event lines, byte-identical to the live ones (relayed without re-encoding). */
  events: z.array(z.string()),
  resync_required: z.boolean(),
  dropped_count: z.number().optional(),
});
export type SubscribeResult = z.infer<typeof SubscribeResult>;

export const WorkspaceName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/,
    "workspace names are 1-64 letters, digits, '.', '_', '-' or spaces",
  )
  .refine((n) => n !== "." && n !== ".." && !n.endsWith(" "), "invalid workspace name");

/** A workspace's sandbox as its owner sees it (`sandbox.get|set`, REST `/workspaces/{name}/sandbox`). */
export const SandboxView = z.object({
  enabled: z.boolean(),
  profile: z.string(),
  profiles: z.array(z.string()),
  effective: z.record(z.string(), z.unknown()),
});
export const SetSandboxRequest = z.strictObject({ profile: z.string().min(1).max(64) });

export const Workspace = z.object({
  name: z.string(),
  path: z.string(),
  display_name: z.string().optional(),
  sandbox_profile: z.string(),
});
export type Workspace = z.infer<typeof Workspace>;
