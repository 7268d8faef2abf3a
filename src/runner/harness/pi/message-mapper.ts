/** pi AgentMessage → canonical Message (PROTOCOL.md §1.5). */
import type { StopReason } from "../../../protocol/common.ts";
import type { Message, Part, Usage } from "../../../protocol/message.ts";
import {
  isConversationMessage,
  isImageBlock,
  isTextBlock,
  isThinkingBlock,
  isToolCallBlock,
  type PiAgentMessage,
  type PiAssistantMessage,
  type PiContentBlock,
  type PiConversationMessage,
  type PiToolResultMessage,
  type PiUserMessage,
} from "./pi-schemas.ts";

const STOP_REASONS: Record<string, StopReason> = {
  stop: "stop",
  length: "length",
  toolUse: "tool_use",
  error: "error",
  aborted: "aborted",
};

export function messageId(sessionId: string, idx: number): string {
  return `${sessionId}#${idx}`;
}

export function mapStopReason(stopReason: string): StopReason | undefined {
  return STOP_REASONS[stopReason];
}

/** Joined text of the text blocks (tool output, user message text). */
export function blocksText(blocks: PiContentBlock[]): string {
  let text = "";
  for (const block of blocks) if (isTextBlock(block)) text += block.text;
  return text;
}

/** The text of a user message as pi reports it (matches a prompt's `message`). */
export function userText(message: PiUserMessage): string {
  return typeof message.content === "string" ? message.content : blocksText(message.content);
}

export interface MapContext {
  sessionId: string;
  idx: number;
  clientId?: string;
  /** Tool run time measured by the runner (tool.start → tool.end). */
  durationMs?: number;
}

function contentParts(id: string, blocks: PiContentBlock[], parts: Part[]): void {
  for (const block of blocks) {
    const partId = `${id}/${parts.length}`;
    if (isTextBlock(block)) parts.push({ type: "text", id: partId, text: block.text });
    else if (isThinkingBlock(block)) parts.push({ type: "thinking", id: partId, text: block.thinking });
    else if (isToolCallBlock(block)) {
      parts.push({
        type: "tool_call",
        id: partId,
        toolCallId: block.id,
        name: block.name,
        input: block.arguments,
      });
    } else if (isImageBlock(block)) {
      parts.push({ type: "image", id: partId, source: "base64", data: block.data, mimeType: block.mimeType });
    }
  }
}

function mapUsage(usage: NonNullable<PiAssistantMessage["usage"]>): Usage {
  const mapped: Usage = { input_tokens: usage.input, output_tokens: usage.output };
  if (usage.cacheRead !== undefined) mapped.cache_read_tokens = usage.cacheRead;
  if (usage.cacheWrite !== undefined) mapped.cache_write_tokens = usage.cacheWrite;
  if (usage.cost?.total !== undefined) mapped.cost_usd = usage.cost.total;
  return mapped;
}

function mapUser(message: PiUserMessage, base: Message): Message {
  if (typeof message.content === "string") {
    base.parts.push({ type: "text", id: `${base.id}/0`, text: message.content });
  } else {
    contentParts(base.id, message.content, base.parts);
  }
  return base;
}

function mapAssistant(message: PiAssistantMessage, base: Message): Message {
  contentParts(base.id, message.content, base.parts);
  if (message.model) base.model = message.model;
  if (message.provider) base.provider = message.provider;
  const stopReason = mapStopReason(message.stopReason);
  if (stopReason) base.stop_reason = stopReason;
  if (message.usage) base.usage = mapUsage(message.usage);
  const metadata: Record<string, unknown> = {};
  if (message.errorMessage) metadata.error_message = message.errorMessage;
  if (message.responseId) metadata.response_id = message.responseId;
  if (Object.keys(metadata).length > 0) base.metadata = metadata;
  return base;
}

function mapToolResult(message: PiToolResultMessage, base: Message, durationMs?: number): Message {
  base.parts.push({
    type: "tool_result",
    id: `${base.id}/0`,
    toolCallId: message.toolCallId,
    name: message.toolName,
    output: blocksText(message.content),
    isError: message.isError,
    ...(durationMs === undefined ? {} : { durationMs }),
  });
  // Images a tool returned (e.g. `read` of a picture) follow the result part.
  contentParts(
    base.id,
    message.content.filter((block) => isImageBlock(block)),
    base.parts,
  );
  base.tool_call_id = message.toolCallId;
  base.tool_name = message.toolName;
  base.is_error = message.isError;
  if (message.details !== undefined && message.details !== null) base.metadata = { details: message.details };
  return base;
}

/** Maps one conversation message; `ctx.idx` is its position in the conversation. */
export function mapPiMessage(message: PiConversationMessage, ctx: MapContext): Message {
  const id = messageId(ctx.sessionId, ctx.idx);
  const role = message.role === "toolResult" ? "tool" : message.role;
  const base: Message = { id, idx: ctx.idx, role, parts: [], created_at: message.timestamp };
  if (ctx.clientId) base.client_id = ctx.clientId;
  switch (message.role) {
    case "user":
      return mapUser(message, base);
    case "assistant":
      return mapAssistant(message, base);
    case "toolResult":
      return mapToolResult(message, base, ctx.durationMs);
  }
}

/** Sets each `tool_call` part's status from the matching tool result in `messages` (on persist, §1.5). */
export function applyToolCallStatus(messages: Message[]): void {
  const results = new Map<string, boolean>();
  for (const message of messages) {
    if (message.role === "tool" && message.tool_call_id)
      results.set(message.tool_call_id, message.is_error === true);
  }
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.type !== "tool_call") continue;
      const isError = results.get(part.toolCallId);
      if (isError !== undefined) part.status = isError ? "error" : "success";
    }
  }
}

/**
 * Maps a whole pi conversation (get_messages, session file) in order: only user/assistant/toolResult
 * messages count, so `idx` matches the live `stream.message_start` numbering.
 */
export function mapPiConversation(
  sessionId: string,
  messages: PiAgentMessage[],
  clientIdAt: (idx: number) => string | undefined = () => undefined,
): Message[] {
  const mapped: Message[] = [];
  for (const message of messages) {
    if (!isConversationMessage(message)) continue;
    const idx = mapped.length;
    const clientId = message.role === "user" ? clientIdAt(idx) : undefined;
    mapped.push(mapPiMessage(message, { sessionId, idx, ...(clientId ? { clientId } : {}) }));
  }
  applyToolCallStatus(mapped);
  return mapped;
}

/** Number of messages that get an `idx` (the next live idx continues from it). */
export function countConversationMessages(messages: PiAgentMessage[]): number {
  let count = 0;
  for (const message of messages) if (isConversationMessage(message)) count += 1;
  return count;
}
