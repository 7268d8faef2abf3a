import { z } from "zod";
import { StopReason } from "./common.ts";

/** Inside parts the field names are camelCase (history serialization); see PROTOCOL.md §0. */
const MediaSource = z.discriminatedUnion("source", [
  z.object({ source: z.literal("url"), url: z.string(), mimeType: z.string().optional() }),
  z.object({ source: z.literal("attachmentRef"), attachmentId: z.string(), mimeType: z.string().optional() }),
  z.object({ source: z.literal("base64"), data: z.string(), mimeType: z.string() }),
  /** Only in replies: the image is stored, but was left out to keep the reply within one frame. */
  z.object({ source: z.literal("omitted"), mimeType: z.string(), size: z.number() }),
]);

export const ToolCallStatus = z.enum(["pending", "running", "success", "error"]);
export type ToolCallStatus = z.infer<typeof ToolCallStatus>;

const TextPart = z.object({
  type: z.literal("text"),
  id: z.string(),
  text: z.string(),
  format: z.enum(["markdown", "plain"]).optional(),
});
const ThinkingPart = z.object({ type: z.literal("thinking"), id: z.string(), text: z.string() });
const ToolCallPart = z.object({
  type: z.literal("tool_call"),
  id: z.string(),
  toolCallId: z.string(),
  name: z.string(),
  input: z.unknown().optional(),
  status: ToolCallStatus.optional(),
});
const ToolResultPart = z.object({
  type: z.literal("tool_result"),
  id: z.string(),
  toolCallId: z.string(),
  name: z.string().optional(),
  output: z.unknown().optional(),
  isError: z.boolean(),
  durationMs: z.number().optional(),
});
const FileRefPart = z.object({
  type: z.literal("file_ref"),
  id: z.string(),
  uri: z.string(),
  label: z.string().optional(),
  range: z.object({ startLine: z.number().optional(), endLine: z.number().optional() }).optional(),
});
const ImagePart = z.intersection(
  z.object({ type: z.literal("image"), id: z.string(), alt: z.string().optional() }),
  MediaSource,
);

export const Part = z.union([TextPart, ThinkingPart, ToolCallPart, ToolResultPart, FileRefPart, ImagePart]);
export type Part = z.infer<typeof Part>;
export type TextPart = z.infer<typeof TextPart>;
export type ToolCallPart = z.infer<typeof ToolCallPart>;
export type ToolResultPart = z.infer<typeof ToolResultPart>;

export const Usage = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_tokens: z.number().optional(),
  cache_write_tokens: z.number().optional(),
  cost_usd: z.number().optional(),
});
export type Usage = z.infer<typeof Usage>;

export const Sender = z.object({
  type: z.enum(["user", "agent", "system"]),
  id: z.string(),
  name: z.string(),
  runner_id: z.string().optional(),
  session_id: z.string().optional(),
});

export const MessageRole = z.enum(["user", "assistant", "system", "tool"]);
export type MessageRole = z.infer<typeof MessageRole>;

export const Message = z.object({
  id: z.string(),
  idx: z.number().int().nonnegative(),
  role: MessageRole,
  client_id: z.string().optional(),
  sender: Sender.optional(),
  parts: z.array(Part),
  created_at: z.number(),
  model: z.string().optional(),
  provider: z.string().optional(),
  stop_reason: StopReason.optional(),
  usage: Usage.optional(),
  tool_call_id: z.string().optional(),
  tool_name: z.string().optional(),
  is_error: z.boolean().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type Message = z.infer<typeof Message>;

export const InputRequest = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("select"),
    request_id: z.string(),
    title: z.string(),
    options: z.array(z.string()),
    timeout: z.number().optional(),
  }),
  z.object({
    type: z.literal("confirm"),
    request_id: z.string(),
    title: z.string(),
    message: z.string(),
    timeout: z.number().optional(),
  }),
  z.object({
    type: z.literal("input"),
    request_id: z.string(),
    title: z.string(),
    placeholder: z.string().optional(),
    prefill: z.string().optional(),
    multiline: z.boolean().optional(),
    timeout: z.number().optional(),
  }),
  z.object({
    type: z.literal("permission"),
    request_id: z.string(),
    title: z.string(),
    description: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
]);
export type InputRequest = z.infer<typeof InputRequest>;

/** A pi model object as returned by `get_models` (camelCase, pi's own shape). */
export const Model = z.object({
  id: z.string(),
  name: z.string(),
  api: z.string(),
  provider: z.string(),
  baseUrl: z.string().optional(),
  reasoning: z.boolean(),
  input: z.array(z.string()),
  contextWindow: z.number(),
  maxTokens: z.number(),
  cost: z.record(z.string(), z.number()).optional(),
});
export type Model = z.infer<typeof Model>;
