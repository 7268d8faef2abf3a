import { signal } from "@preact/signals";
import type {
  AgentEventOf,
  ImageInput,
  Message,
  MessageRole,
  ToolCallPart,
} from "../../../../src/protocol/index.ts";
import {
  ImagePartModel,
  isImage,
  isText,
  isThinking,
  isToolCall,
  MessageModel,
  TextPartModel,
  ThinkingPartModel,
  ToolCallModel,
  ToolResultModel,
} from "./message-model.ts";

/** The events that build messages and their tool-call cards. */
export type MessageEvent = AgentEventOf<
  | "stream.message_start"
  | "stream.text_delta"
  | "stream.thinking_delta"
  | "stream.tool_call_start"
  | "stream.tool_call_delta"
  | "stream.tool_call_end"
  | "stream.message_end"
  | "tool.start"
  | "tool.progress"
  | "tool.end"
>;

/**
 * The messages of one conversation, from history and live events, by id and in idx order. A tool
 * call has one card (shared by id) for its streamed part, its tool events and its result. Prompts
 * this tab sent and the agent has not echoed yet come last. History is held from some idx to the
 * end: a long conversation's older messages are added a page at a time (OlderMessages).
 */
export class ChatMessages {
  readonly messages = signal<readonly MessageModel[]>([]);
  /** Messages of the conversation before the first one held (idx counts from 0 without gaps). */
  readonly olderCount = signal(0);
  private readonly byId = new Map<string, MessageModel>();
  private readonly toolCalls = new Map<string, ToolCallModel>();
  private optimistic: MessageModel[] = [];

  /** The conversation's length as far as this view knows it: the older ones and those with an id. */
  get count(): number {
    return this.olderCount.peek() + this.byId.size;
  }

  /** Shows a prompt this tab is sending until the agent echoes it. */
  addPending(clientId: string, text: string, images: readonly ImageInput[] = []): MessageModel {
    const pending = new MessageModel(`pending:${clientId}`, Number.MAX_SAFE_INTEGER, "user", clientId);
    pending.optimistic.value = true;
    pending.ensurePart(0, isText, () => new TextPartModel(text, "plain"));
    // pi's user message holds the text, then the images: the echo replaces these parts in place.
    images.forEach((image, index) => {
      const src = `data:${image.media_type};base64,${image.data}`;
      pending.ensurePart(index + 1, isImage, () => new ImagePartModel(src, "Attached image"));
    });
    this.optimistic.push(pending);
    this.publish();
    return pending;
  }

  /** The prompt was not sent: its bubble goes. */
  dropPending(pending: MessageModel): void {
    this.optimistic = this.optimistic.filter((m) => m !== pending);
    this.publish();
  }

  /** The turn or the stream ended: no message streams any more. */
  stopStreaming(): void {
    for (const message of this.byId.values()) message.streaming.value = false;
  }

  /**
   * The newest history replaces what is shown from its first idx on: messages it lacks go, the
   * others are updated in place. Older pages already held stay if they reach up to it (history
   * before that idx is final); with a gap between them they go, to be fetched again.
   */
  replaceHistory(messages: readonly Message[]): void {
    const from = messages[0]?.idx ?? 0;
    const ids = new Set(messages.map((m) => m.id));
    const joins = [...this.byId.values()].some((m) => m.idx === from - 1);
    for (const [id, model] of [...this.byId]) {
      if (!ids.has(id) && !(joins && model.idx < from)) this.byId.delete(id);
    }
    for (const message of messages) this.upsertFinal(message);
    this.olderCount.value = Math.min(from, this.firstIdx());
    this.publish();
  }

  /** An older page of history: only its messages before the first one held are added. */
  prependHistory(messages: readonly Message[]): void {
    const first = this.olderCount.peek();
    const older = messages.filter((m) => m.idx < first);
    if (older.length === 0) return;
    for (const message of older) this.upsertFinal(message);
    // Results held before their calls arrived are linked to the calls' cards now.
    for (const model of this.byId.values()) if (model.role === "tool") this.linkToolResults(model);
    this.olderCount.value = Math.min(first, this.firstIdx());
    this.publish();
  }

  apply(event: MessageEvent): void {
    switch (event.event) {
      case "stream.message_start":
        this.onMessageStart(event.message_id, event.role, event.idx);
        return;
      case "stream.text_delta": {
        const part = this.liveMessage(event.message_id).ensurePart(
          event.content_index,
          isText,
          () => new TextPartModel("", "markdown"),
        );
        part.text.value += event.delta;
        return;
      }
      case "stream.thinking_delta": {
        const part = this.liveMessage(event.message_id).ensurePart(
          event.content_index,
          isThinking,
          () => new ThinkingPartModel(""),
        );
        part.text.value += event.delta;
        return;
      }
      case "stream.tool_call_start":
        this.liveToolCall(event.message_id, event.content_index, event.tool_call_id, event.name);
        return;
      case "stream.tool_call_delta": {
        const call = this.liveToolCall(event.message_id, event.content_index, event.tool_call_id, "");
        call.argsText.value += event.delta;
        return;
      }
      case "stream.tool_call_end": {
        const call = this.liveToolCall(event.message_id, event.content_index, event.tool_call_id, "");
        call.name.value = event.tool_call.name;
        call.input.value = { value: event.tool_call.input };
        return;
      }
      case "stream.message_end":
        this.upsertFinal(event.message);
        return;
      case "tool.start": {
        const call = this.toolCallForEvent(event.tool_call_id, event.name);
        call.status.value = "running";
        if (event.input !== undefined && call.input.value === null) call.input.value = { value: event.input };
        return;
      }
      case "tool.progress": {
        const call = this.toolCallForEvent(event.tool_call_id, event.name);
        call.status.value = "running";
        call.output.value = event.partial_output;
        return;
      }
      case "tool.end":
        this.toolCallForEvent(event.tool_call_id, event.name).applyResult(
          event.output,
          event.is_error,
          event.duration_ms,
        );
        return;
    }
  }

  private onMessageStart(messageId: string, role: MessageRole, idx: number): void {
    const known = this.byId.get(messageId);
    if (known) {
      known.restart();
      return;
    }
    // The agent echoes the prompt this tab sent: the optimistic bubble becomes the real message.
    const adopted = role === "user" ? this.optimistic.shift() : undefined;
    const message = adopted ?? new MessageModel(messageId, idx, role);
    message.id = messageId;
    message.idx = idx;
    message.streaming.value = true;
    this.byId.set(messageId, message);
    this.publish();
  }

  /** The message a delta belongs to; created when the view joined after its start. */
  private liveMessage(messageId: string): MessageModel {
    const known = this.byId.get(messageId);
    if (known) return known;
    const message = new MessageModel(messageId, indexFromMessageId(messageId), "assistant");
    message.streaming.value = true;
    this.byId.set(messageId, message);
    this.publish();
    return message;
  }

  private liveToolCall(
    messageId: string,
    contentIndex: number,
    toolCallId: string,
    name: string,
  ): ToolCallModel {
    return this.liveMessage(messageId).ensurePart(
      contentIndex,
      (part): part is ToolCallModel => isToolCall(part) && part.toolCallId === toolCallId,
      () => this.toolCall(toolCallId, name),
    );
  }

  /** Tool events for a call this view never saw (joined mid-turn) get a card of their own until history arrives. */
  private toolCallForEvent(toolCallId: string, name: string): ToolCallModel {
    const known = this.toolCalls.get(toolCallId);
    if (known) return known;
    return this.liveToolCall(`live-tool:${toolCallId}`, 0, toolCallId, name);
  }

  private toolCall(toolCallId: string, name: string): ToolCallModel {
    let call = this.toolCalls.get(toolCallId);
    if (!call) {
      call = new ToolCallModel(toolCallId, name);
      this.toolCalls.set(toolCallId, call);
    } else if (name) {
      call.name.value = name;
    }
    return call;
  }

  private readonly toolCallForPart = (part: ToolCallPart): ToolCallModel => {
    const call = this.toolCall(part.toolCallId, part.name);
    call.applyPart(part);
    return call;
  };

  private upsertFinal(message: Message): void {
    let model = this.byId.get(message.id);
    if (!model && message.role === "user" && message.client_id) {
      model = this.optimistic.find((m) => m.clientId === message.client_id);
      if (model) model.id = message.id;
    }
    if (!model) model = new MessageModel(message.id, message.idx, message.role, message.client_id);
    model.idx = message.idx;
    this.optimistic = this.optimistic.filter((m) => m !== model);
    this.byId.set(message.id, model);
    model.applyFinal(message, this.toolCallForPart);
    this.linkToolResults(model);
    this.publish();
  }

  /** Tool results are shown on their call's card; the tool message itself is hidden when all are linked. */
  private linkToolResults(model: MessageModel): void {
    const results = model.parts.value.filter((part) => part instanceof ToolResultModel);
    if (results.length === 0) return;
    let linked = 0;
    for (const result of results) {
      const call = this.toolCalls.get(result.toolCallId);
      if (!call) continue;
      if (call.status.value !== "success" && call.status.value !== "error") {
        call.applyResult(result.output, result.isError);
      } else if (call.output.value === null) {
        call.output.value = result.output;
      }
      linked += 1;
    }
    model.hidden.value = linked === results.length;
  }

  /** The first idx held; with nothing held, 0 (an empty conversation has nothing older). */
  private firstIdx(): number {
    let first = Number.MAX_SAFE_INTEGER;
    for (const model of this.byId.values()) first = Math.min(first, model.idx);
    return first === Number.MAX_SAFE_INTEGER ? 0 : first;
  }

  private publish(): void {
    const real = [...this.byId.values()].sort((a, b) => a.idx - b.idx);
    this.messages.value = [...real, ...this.optimistic];
  }
}

/** `<session_id>#<idx>` → idx (PROTOCOL.md §1.4); ordering only, so unknown shapes sort last. */
function indexFromMessageId(messageId: string): number {
  const idx = Number(messageId.slice(messageId.lastIndexOf("#") + 1));
  return Number.isInteger(idx) ? idx : Number.MAX_SAFE_INTEGER - 1;
}
