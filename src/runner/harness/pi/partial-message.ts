/**
 * The assistant message being streamed, as far as its deltas got, for checkpoints and for a message
 * cut off mid-stream. It is built from the message pi announced at `message_start` and the block
 * events that follow, never from pi's partial copies: those are serialized after later chunks were
 * applied (PI-RPC.md gotcha 4), and the lean front end (lean-rpc.ts) does not send them at all. The
 * message came out of JSON.parse of pi's line and belongs to this object, so it is updated in place:
 * a delta costs its own length, not the message's.
 */
import type { PiAssistantMessage, PiAssistantMessageEvent } from "./pi-schemas.ts";

type Block = Record<string, unknown>;

/** Which field of a content block each delta type extends. */
const DELTA_FIELD: Record<string, string> = { text_delta: "text", thinking_delta: "thinking" };

export class PartialMessage {
  /** By content index; message_start announces an empty answer, so blocks come only from events. */
  private readonly content: Block[] = [];

  constructor(private readonly message: PiAssistantMessage) {}

  /** The message as streamed so far (pi's shape; stopReason is pi's placeholder). */
  get current(): PiAssistantMessage {
    return {
      ...this.message,
      content: this.content.filter((b) => b !== undefined) as PiAssistantMessage["content"],
    };
  }

  /**
   * Applies one update. Tool-call argument deltas are not applied: the arguments are only known
   * whole at `toolcall_end`; until then a cut-off call keeps empty arguments.
   */
  apply(update: PiAssistantMessageEvent, toolCall?: { id: string; name: string }): void {
    const index = update.contentIndex;
    switch (update.type) {
      case "text_start":
        this.content[index] = { type: "text", text: "" };
        return;
      case "thinking_start":
        this.content[index] = { type: "thinking", thinking: "" };
        return;
      case "toolcall_start":
        this.content[index] = {
          type: "toolCall",
          id: toolCall?.id ?? "",
          name: toolCall?.name ?? "",
          arguments: {},
        };
        return;
      case "toolcall_end":
        if (update.toolCall) this.content[index] = { ...update.toolCall };
        return;
      default: {
        const field = DELTA_FIELD[update.type];
        const block = this.content[index];
        if (!field || !block || update.delta === undefined) return;
        const before = block[field];
        block[field] = (typeof before === "string" ? before : "") + update.delta;
      }
    }
  }

  /** A tool call's id and name became known after its start (held deltas, §1.8). */
  nameToolCall(index: number, toolCall: { id: string; name: string }): void {
    const block = this.content[index];
    if (block?.type === "toolCall") Object.assign(block, toolCall);
  }
}
