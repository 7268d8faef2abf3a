/**
 * zod schemas for what pi 0.73.1 writes on stdout in RPC mode (PI-RPC.md §3–§5), and the TypeScript
 * shapes of the commands the runner writes to it. Objects are loose: pi may add fields, the runner
 * reads only what is listed here.
 */
import { z } from "zod";

const TextBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
const ThinkingBlock = z.looseObject({ type: z.literal("thinking"), thinking: z.string() });
const ImageBlock = z.looseObject({ type: z.literal("image"), data: z.string(), mimeType: z.string() });
const ToolCallBlock = z.looseObject({
  type: z.literal("toolCall"),
  id: z.string(),
  name: z.string(),
  arguments: z.unknown(),
});
const KNOWN_BLOCKS = new Set(["text", "thinking", "image", "toolCall"]);
/** Block types pi may add later are kept (and skipped by the mapper); a malformed known block fails the record. */
const OtherBlock = z.looseObject({ type: z.string().refine((t) => !KNOWN_BLOCKS.has(t)) });

export const PiContentBlock = z.union([TextBlock, ThinkingBlock, ImageBlock, ToolCallBlock, OtherBlock]);
export type PiContentBlock = z.infer<typeof PiContentBlock>;
export type PiTextBlock = z.infer<typeof TextBlock>;
export type PiThinkingBlock = z.infer<typeof ThinkingBlock>;
export type PiImageBlock = z.infer<typeof ImageBlock>;
export type PiToolCallBlock = z.infer<typeof ToolCallBlock>;

// Known block types are validated by their own schema, so the `type` tag identifies the shape.
export const isTextBlock = (b: PiContentBlock): b is PiTextBlock => b.type === "text";
export const isThinkingBlock = (b: PiContentBlock): b is PiThinkingBlock => b.type === "thinking";
export const isImageBlock = (b: PiContentBlock): b is PiImageBlock => b.type === "image";
export const isToolCallBlock = (b: PiContentBlock): b is PiToolCallBlock => b.type === "toolCall";

const Usage = z.looseObject({
  input: z.number(),
  output: z.number(),
  cacheRead: z.number().optional(),
  cacheWrite: z.number().optional(),
  cost: z.looseObject({ total: z.number().optional() }).optional(),
});

export const PiUserMessage = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(PiContentBlock)]),
  timestamp: z.number(),
});
export const PiAssistantMessage = z.looseObject({
  role: z.literal("assistant"),
  content: z.array(PiContentBlock),
  api: z.string().optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  usage: Usage.optional(),
  stopReason: z.string(),
  timestamp: z.number(),
  responseId: z.string().optional(),
  errorMessage: z.string().optional(),
});
export const PiToolResultMessage = z.looseObject({
  role: z.literal("toolResult"),
  toolCallId: z.string(),
  toolName: z.string(),
  content: z.array(PiContentBlock),
  isError: z.boolean(),
  timestamp: z.number(),
  details: z.unknown().optional(),
});
const CONVERSATION_ROLES = new Set(["user", "assistant", "toolResult"]);
/** bashExecution, custom, branchSummary, compactionSummary: not part of the canonical conversation. */
const PiOtherMessage = z.looseObject({ role: z.string().refine((r) => !CONVERSATION_ROLES.has(r)) });

export const PiAgentMessage = z.union([
  PiUserMessage,
  PiAssistantMessage,
  PiToolResultMessage,
  PiOtherMessage,
]);
export type PiAgentMessage = z.infer<typeof PiAgentMessage>;
export type PiUserMessage = z.infer<typeof PiUserMessage>;
export type PiAssistantMessage = z.infer<typeof PiAssistantMessage>;
export type PiToolResultMessage = z.infer<typeof PiToolResultMessage>;
export type PiConversationMessage = PiUserMessage | PiAssistantMessage | PiToolResultMessage;

export function isConversationMessage(message: PiAgentMessage): message is PiConversationMessage {
  return message.role === "user" || message.role === "assistant" || message.role === "toolResult";
}

const ToolOutput = z.looseObject({
  content: z.array(PiContentBlock).default([]),
  details: z.unknown().optional(),
});

const AssistantMessageEvent = z.looseObject({
  type: z.string(),
  contentIndex: z.number().int().nonnegative(),
  delta: z.string().optional(),
  toolCall: ToolCallBlock.optional(),
  /** Serialized after later chunks were applied (gotcha 4): only read for a tool call's id and name. */
  partial: z.unknown().optional(),
});
export type PiAssistantMessageEvent = z.infer<typeof AssistantMessageEvent>;

/** The id/name of the block at `contentIndex` in a `partial`, when already known. */
const PartialToolCalls = z.looseObject({
  content: z.array(z.looseObject({ id: z.string().optional(), name: z.string().optional() })),
});
export function partialToolCall(
  partial: unknown,
  contentIndex: number,
): { id: string; name: string } | undefined {
  const parsed = PartialToolCalls.safeParse(partial);
  const block = parsed.success ? parsed.data.content[contentIndex] : undefined;
  return block?.id && block.name ? { id: block.id, name: block.name } : undefined;
}

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.looseObject({ type: z.literal(type), ...shape });

export const PiEvent = z.discriminatedUnion("type", [
  event("agent_start", {}),
  event("agent_end", { messages: z.array(PiAgentMessage).default([]) }),
  event("turn_start", {}),
  event("turn_end", {}),
  event("message_start", { message: PiAgentMessage }),
  event("message_update", { assistantMessageEvent: AssistantMessageEvent }),
  event("message_end", { message: PiAgentMessage }),
  event("tool_execution_start", { toolCallId: z.string(), toolName: z.string(), args: z.unknown() }),
  event("tool_execution_update", {
    toolCallId: z.string(),
    toolName: z.string(),
    partialResult: ToolOutput.optional(),
  }),
  event("tool_execution_end", {
    toolCallId: z.string(),
    toolName: z.string(),
    result: ToolOutput.optional(),
    isError: z.boolean().default(false),
  }),
  event("queue_update", { steering: z.array(z.string()), followUp: z.array(z.string()) }),
  event("compaction_start", { reason: z.enum(["manual", "threshold", "overflow"]) }),
  event("compaction_end", {
    reason: z.enum(["manual", "threshold", "overflow"]).optional(),
    result: z.looseObject({ summary: z.string().optional(), tokensBefore: z.number().optional() }).nullish(),
    aborted: z.boolean().default(false),
    willRetry: z.boolean().default(false),
    errorMessage: z.string().optional(),
  }),
  event("auto_retry_start", {
    attempt: z.number(),
    maxAttempts: z.number(),
    delayMs: z.number(),
    errorMessage: z.string().default(""),
  }),
  event("auto_retry_end", { success: z.boolean(), attempt: z.number(), finalError: z.string().optional() }),
  event("session_info_changed", { name: z.string() }),
  event("thinking_level_changed", { level: z.string() }),
  event("extension_error", { extensionPath: z.string(), event: z.string(), error: z.string() }),
  event("extension_ui_request", {
    id: z.string(),
    method: z.string(),
    title: z.string().optional(),
    message: z.string().optional(),
    options: z.array(z.string()).optional(),
    timeout: z.number().optional(),
    statusKey: z.string().optional(),
    statusText: z.string().nullish(),
    text: z.string().optional(),
    prefill: z.string().optional(),
    placeholder: z.string().optional(),
    notifyType: z.string().optional(),
  }),
]);
export type PiEvent = z.infer<typeof PiEvent>;
export type PiEventOf<T extends PiEvent["type"]> = Extract<PiEvent, { type: T }>;

export const PiResponse = z.looseObject({
  type: z.literal("response"),
  id: z.string().optional(),
  command: z.string(),
  success: z.boolean(),
  data: z.unknown().optional(),
  error: z.string().optional(),
});
export type PiResponse = z.infer<typeof PiResponse>;

/** `get_state` data (PI-RPC.md §4); only the fields the runner reads are typed. */
export const PiState = z.looseObject({
  model: z.looseObject({ id: z.string(), provider: z.string() }).nullish(),
  thinkingLevel: z.string().optional(),
  isStreaming: z.boolean().optional(),
  sessionFile: z.string().optional(),
  sessionId: z.string(),
  sessionName: z.string().optional(),
  messageCount: z.number().optional(),
});
export type PiState = z.infer<typeof PiState>;

/** `data` of pi responses the runner maps (PI-RPC.md §4). */
export const PiMessagesData = z.looseObject({ messages: z.array(PiAgentMessage) });
export const PiModelsData = z.looseObject({ models: z.array(z.unknown()) });
export const PiCommandsData = z.looseObject({
  commands: z.array(
    z.looseObject({ name: z.string(), description: z.string().optional(), source: z.string() }),
  ),
});
export const PiForkMessagesData = z.looseObject({
  messages: z.array(z.looseObject({ entryId: z.string(), text: z.string() })),
});
export const PiCycleModelData = z
  .looseObject({
    model: z.looseObject({ id: z.string(), provider: z.string() }),
    thinkingLevel: z.string().optional(),
  })
  .nullable();
export const PiCycleThinkingData = z.looseObject({ level: z.string() }).nullable();
export const PiCompactData = z.looseObject({
  summary: z.string(),
  firstKeptEntryId: z.string(),
  tokensBefore: z.number(),
});
export const PiCancellableData = z.looseObject({ cancelled: z.boolean() });
export const PiForkData = z.looseObject({ text: z.string(), cancelled: z.boolean() });
export const PiObjectData = z.record(z.string(), z.unknown());

export interface PiImage {
  type: "image";
  data: string;
  mimeType: string;
}

/** Commands the runner writes to pi's stdin (PI-RPC.md §4); `id` is added by PiProcess. */
export type PiCommand =
  | { type: "prompt"; message: string; images?: PiImage[]; streamingBehavior?: "steer" | "followUp" }
  | { type: "steer" | "follow_up"; message: string; images?: PiImage[] }
  | {
      type:
        | "abort"
        | "abort_retry"
        | "get_state"
        | "get_messages"
        | "get_session_stats"
        | "get_available_models"
        | "get_commands"
        | "get_fork_messages"
        | "cycle_model"
        | "cycle_thinking_level";
    }
  | { type: "new_session"; parentSession?: string }
  | { type: "fork"; entryId: string }
  | { type: "set_model"; provider: string; modelId: string }
  | { type: "set_thinking_level"; level: string }
  | { type: "set_auto_compaction" | "set_auto_retry"; enabled: boolean }
  | { type: "compact"; customInstructions?: string }
  | { type: "set_session_name"; name: string }
  | { type: "extension_ui_response"; id: string; value?: string; confirmed?: boolean; cancelled?: boolean };
