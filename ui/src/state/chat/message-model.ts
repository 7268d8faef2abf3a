import { type Signal, signal } from "@preact/signals";
import type {
  Message,
  MessageRole,
  Part,
  StopReason,
  ToolCallPart,
  ToolCallStatus,
  Usage,
} from "../../../../src/protocol/index.ts";

/**
 * Live view models of one conversation. Every piece that changes while streaming is its own signal,
 * so a text delta re-renders only the part it belongs to, never the message list.
 */

export class TextPartModel {
  readonly kind = "text";
  readonly text: Signal<string>;
  constructor(
    text: string,
    readonly format: "markdown" | "plain",
  ) {
    this.text = signal(text);
  }
}

export class ThinkingPartModel {
  readonly kind = "thinking";
  readonly text: Signal<string>;
  constructor(text: string) {
    this.text = signal(text);
  }
}

/** One tool call: arguments stream in, then the final input, then progress and the result. */
export class ToolCallModel {
  readonly kind = "tool_call";
  readonly name: Signal<string>;
  readonly argsText = signal("");
  /** The final input (boxed: `undefined` is a legal input). */
  readonly input = signal<{ value: unknown } | null>(null);
  readonly status = signal<ToolCallStatus>("pending");
  readonly output = signal<string | null>(null);
  readonly durationMs = signal<number | null>(null);
  constructor(
    readonly toolCallId: string,
    name: string,
  ) {
    this.name = signal(name);
  }

  /** Takes what a persisted or final `tool_call` part knows; live progress already seen is kept. */
  applyPart(part: ToolCallPart): void {
    this.name.value = part.name;
    if (part.input !== undefined) this.input.value = { value: part.input };
    if (part.status && part.status !== "pending") this.status.value = part.status;
  }

  applyResult(output: string, isError: boolean, durationMs?: number): void {
    this.output.value = output;
    this.status.value = isError ? "error" : "success";
    if (durationMs !== undefined) this.durationMs.value = durationMs;
  }
}

/** A tool result whose call is not in this view (rendered on its own). */
export class ToolResultModel {
  readonly kind = "tool_result";
  constructor(
    readonly toolCallId: string,
    readonly name: string | undefined,
    readonly output: string,
    readonly isError: boolean,
  ) {}
}

export class ImagePartModel {
  readonly kind = "image";
  constructor(
    readonly src: string | null,
    readonly alt: string,
  ) {}
}

export class FileRefPartModel {
  readonly kind = "file_ref";
  constructor(
    readonly uri: string,
    readonly label: string,
  ) {}
}

export type PartModel =
  | TextPartModel
  | ThinkingPartModel
  | ToolCallModel
  | ToolResultModel
  | ImagePartModel
  | FileRefPartModel;

export interface MessageMeta {
  model?: string;
  usage?: Usage;
  createdAt: number;
}

let keyCounter = 0;

export class MessageModel {
  /** Stable render key: an optimistic message keeps it when it learns its real id. */
  readonly key: string;
  readonly parts = signal<readonly PartModel[]>([]);
  readonly streaming = signal(false);
  readonly stopReason = signal<StopReason | null>(null);
  readonly errorMessage = signal<string | null>(null);
  readonly meta = signal<MessageMeta | null>(null);
  /** True for a tool message whose results are all shown on their tool-call cards. */
  readonly hidden = signal(false);
  /** Sent by this tab and not echoed by the agent yet. */
  readonly optimistic = signal(false);
  private byIndex = new Map<number, PartModel>();

  constructor(
    public id: string,
    public idx: number,
    readonly role: MessageRole,
    public clientId?: string,
  ) {
    keyCounter += 1;
    this.key = `m${keyCounter}`;
  }

  /** Part at a content index, created (or replaced, if of another kind) when missing. */
  ensurePart<T extends PartModel>(
    contentIndex: number,
    matches: (part: PartModel) => part is T,
    create: () => T,
  ): T {
    const existing = this.byIndex.get(contentIndex);
    if (existing && matches(existing)) return existing;
    const created = create();
    this.byIndex.set(contentIndex, created);
    this.publishParts();
    return created;
  }

  /** A message_start for a message already shown (a replay): its deltas will rebuild it. */
  restart(): void {
    this.byIndex = new Map();
    this.publishParts();
    this.streaming.value = true;
  }

  /**
   * Applies the final message. Part models at the same index and of the same kind are reused, so
   * the DOM that streamed them stays in place; tool calls come from `toolCallFor` (shared per id).
   */
  applyFinal(message: Message, toolCallFor: (part: ToolCallPart) => ToolCallModel): void {
    const next = new Map<number, PartModel>();
    message.parts.forEach((part, index) => {
      next.set(index, this.reusePart(this.byIndex.get(index), part, toolCallFor));
    });
    this.byIndex = next;
    this.publishParts();
    this.streaming.value = false;
    this.optimistic.value = false;
    this.clientId = message.client_id ?? this.clientId;
    this.stopReason.value = message.stop_reason ?? null;
    const error = message.metadata?.error_message;
    this.errorMessage.value = typeof error === "string" ? error : null;
    this.meta.value = { model: message.model, usage: message.usage, createdAt: message.created_at };
  }

  private reusePart(
    existing: PartModel | undefined,
    part: Part,
    toolCallFor: (part: ToolCallPart) => ToolCallModel,
  ): PartModel {
    switch (part.type) {
      case "text": {
        const format = this.role === "assistant" ? (part.format ?? "markdown") : "plain";
        if (existing instanceof TextPartModel && existing.format === format) {
          existing.text.value = part.text;
          return existing;
        }
        return new TextPartModel(part.text, format);
      }
      case "thinking":
        if (existing instanceof ThinkingPartModel) {
          existing.text.value = part.text;
          return existing;
        }
        return new ThinkingPartModel(part.text);
      case "tool_call":
        return toolCallFor(part);
      case "tool_result":
        return new ToolResultModel(part.toolCallId, part.name, outputText(part.output), part.isError);
      case "file_ref":
        return new FileRefPartModel(part.uri, part.label ?? part.uri);
      case "image":
        if (part.source === "omitted") {
          const size = `${(part.size / (1024 * 1024)).toFixed(1)} MB`;
          return new ImagePartModel(
            null,
            `Image (${size}) not shown: this conversation's images are too many to load at once`,
          );
        }
        return new ImagePartModel(imageSource(part), part.alt ?? "Attached image");
    }
  }

  private publishParts(): void {
    this.parts.value = [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, part]) => part);
  }
}

/** Tool output is text in practice; anything else is shown as JSON. */
function outputText(output: unknown): string {
  if (output === undefined || output === null) return "";
  return typeof output === "string" ? output : JSON.stringify(output, null, 2);
}

function imageSource(part: Extract<Part, { type: "image" }>): string | null {
  if (part.source === "base64") return `data:${part.mimeType};base64,${part.data}`;
  if (part.source === "url") return part.url;
  return null;
}

export const isText = (part: PartModel): part is TextPartModel => part instanceof TextPartModel;
export const isThinking = (part: PartModel): part is ThinkingPartModel => part instanceof ThinkingPartModel;
export const isToolCall = (part: PartModel): part is ToolCallModel => part instanceof ToolCallModel;
export const isImage = (part: PartModel): part is ImagePartModel => part instanceof ImagePartModel;
