import { z } from "zod";
import { CorrelationId, ErrorCode, SessionId } from "./common.ts";

/** Bounds of a terminal's size in columns and rows (PROTOCOL.md §2.3). */
export const MIN_TERMINAL_DIMENSION = 1;
export const MAX_TERMINAL_DIMENSION = 1000;

/** Client-chosen or minted (UUID) terminal id; the same alphabet as session ids. */
export const TerminalId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "invalid terminal_id");
const Dimension = z.number().int().min(MIN_TERMINAL_DIMENSION).max(MAX_TERMINAL_DIMENSION);
/** Absolute path of a workspace; the runner checks it lies in the user's workspace root. */
const WorkspacePath = z.string().min(1).max(4096);

export const TerminalOpenParams = z.strictObject({
  terminal_id: TerminalId.optional(),
  workspace_path: WorkspacePath,
  cols: Dimension,
  rows: Dimension,
  /** The chat session the terminal was opened beside; informational. */
  session_id: SessionId.optional(),
});
export const TerminalInputParams = z.strictObject({ terminal_id: TerminalId, data: z.string() });
export const TerminalResizeParams = z.strictObject({
  terminal_id: TerminalId,
  cols: Dimension,
  rows: Dimension,
});
export const TerminalCloseParams = z.strictObject({ terminal_id: TerminalId });

export type TerminalOpenParams = z.infer<typeof TerminalOpenParams>;
export type TerminalInputParams = z.infer<typeof TerminalInputParams>;
export type TerminalResizeParams = z.infer<typeof TerminalResizeParams>;
export type TerminalCloseParams = z.infer<typeof TerminalCloseParams>;

export const TerminalOpenResult = z.object({
  terminal_id: TerminalId,
  pid: z.number().int().positive(),
  /** The scrollback of a re-attached terminal, to show before any new output. */
  scrollback_base64: z.base64().optional(),
});
export type TerminalOpenResult = z.infer<typeof TerminalOpenResult>;

/** Params and results of the `terminal.*` runner methods (PROTOCOL.md §3.4). */
export const TerminalMethods = {
  "terminal.open": { params: TerminalOpenParams, result: TerminalOpenResult },
  "terminal.input": { params: TerminalInputParams, result: z.strictObject({}) },
  "terminal.resize": { params: TerminalResizeParams, result: z.strictObject({}) },
  "terminal.close": { params: TerminalCloseParams, result: z.strictObject({}) },
  /** The browser tab went away: output goes to the scrollback and the grace period starts. */
  "terminal.detach": { params: TerminalCloseParams, result: z.strictObject({}) },
} as const;
export type TerminalMethod = keyof typeof TerminalMethods;

/** How a terminal's process ended: its exit code, or the signal that killed it. */
export const TerminalExitStatus = z.object({
  exit_code: z.number().int().optional(),
  signal: z.string().optional(),
});
export type TerminalExitStatus = z.infer<typeof TerminalExitStatus>;

/** Runner push frames (PROTOCOL.md §3.3). */
export const TerminalOutputPush = z.object({
  type: z.literal("terminal_output"),
  terminal_id: TerminalId,
  data_base64: z.base64(),
});
export type TerminalOutputPush = z.infer<typeof TerminalOutputPush>;
export const TerminalExitPush = TerminalExitStatus.extend({
  type: z.literal("terminal_exit"),
  terminal_id: TerminalId,
});
export type TerminalExitPush = z.infer<typeof TerminalExitPush>;
export const TerminalPush = z.discriminatedUnion("type", [TerminalOutputPush, TerminalExitPush]);
export type TerminalPush = z.infer<typeof TerminalPush>;

const muxHead = { channel: z.literal("terminal"), id: CorrelationId.optional() };

/** Client→server terminal frames (PROTOCOL.md §2.3). */
export const TerminalMuxRequest = z.discriminatedUnion("type", [
  TerminalOpenParams.extend({ ...muxHead, type: z.literal("open") }),
  TerminalInputParams.extend({ ...muxHead, type: z.literal("input") }),
  TerminalResizeParams.extend({ ...muxHead, type: z.literal("resize") }),
  TerminalCloseParams.extend({ ...muxHead, type: z.literal("close") }),
]);
export type TerminalMuxRequest = z.infer<typeof TerminalMuxRequest>;

/** Server→client terminal frames (PROTOCOL.md §2.3). */
export const TerminalOpenedFrame = z.object({
  ...muxHead,
  type: z.literal("opened"),
  terminal_id: TerminalId,
});
export const TerminalOutputFrame = TerminalOutputPush.omit({ type: true }).extend({
  channel: z.literal("terminal"),
  type: z.literal("output"),
});
export const TerminalExitFrame = TerminalExitPush.omit({ type: true }).extend({
  channel: z.literal("terminal"),
  type: z.literal("exit"),
});
export const TerminalErrorFrame = z.object({
  ...muxHead,
  type: z.literal("error"),
  terminal_id: TerminalId.optional(),
  error: z.string(),
  code: ErrorCode,
});
export const TerminalServerFrame = z.discriminatedUnion("type", [
  TerminalOpenedFrame,
  TerminalOutputFrame,
  TerminalExitFrame,
  TerminalErrorFrame,
]);
export type TerminalServerFrame = z.infer<typeof TerminalServerFrame>;
