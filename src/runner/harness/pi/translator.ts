/** pi events → canonical events (PROTOCOL.md §1.8), with phase tracking (§1.6). */
import { AgentPhase } from "../../../protocol/common.ts";
import type { EventName, EventPayload } from "../../../protocol/events.ts";
import type { InputRequest, Message } from "../../../protocol/message.ts";
import { blocksText, mapPiMessage, mapStopReason, messageId, userText } from "./message-mapper.ts";
import { PartialMessage } from "./partial-message.ts";
import {
  isConversationMessage,
  type PiAgentMessage,
  PiAssistantMessage,
  type PiEvent,
  type PiEventOf,
  partialToolCall,
} from "./pi-schemas.ts";

/** Bounds of the translator's own bookkeeping (per session). */
const MAX_QUEUED_CLIENT_IDS = 256;
const MAX_REMEMBERED_CLIENT_IDS = 512;

const PHASE_STATUS_KEY = "oqto_phase";
const TITLE_STATUS_KEY = "oqto_title_changed";

export interface TranslatorHooks {
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** pi `agent_start`: a run began (also a retry or compaction re-run). */
  agentStarted(): void;
  /** pi `agent_end`; `lastStopReason` is pi's stopReason of the run's last assistant message. */
  agentEnded(lastStopReason: string | undefined): void;
  autoRetryStarted(): void;
  compactionEnded(willRetry: boolean): void;
  titleChanged(title: string): void;
  inputRequested(request: InputRequest, timeoutMs: number | undefined): void;
  log(message: string): void;
}

interface OpenMessage {
  id: string;
  idx: number;
  /** An assistant message as its deltas streamed so far. */
  partial: PartialMessage | undefined;
  /** Bumped with every update: tells a checkpoint whether anything changed. */
  revision: number;
}

/** Marks a message that stopped mid-stream (pi or the runner died): what streamed, not pi's final word. */
export const INTERRUPTED_KEY = "interrupted";

/** A tool call whose `stream.tool_call_start` waits for its id and name (§1.8 deferral rule). */
interface ToolCallStream {
  started: boolean;
  id?: string;
  name?: string;
  held: string[];
}

export class PiTranslator {
  private nextIdx: number;
  private turnOpen = false;
  private currentPhase: AgentPhase | undefined;
  private currentDetail: string | undefined;
  private openMessage: OpenMessage | undefined;
  private toolStreams = new Map<number, ToolCallStream>();
  private readonly toolStartedAt = new Map<string, number>();
  private readonly toolDurations = new Map<string, number>();
  private readonly queuedClientIds: Array<{ text: string; clientId: string }> = [];
  private readonly clientIdsByIdx = new Map<number, string>();

  constructor(
    private readonly sessionId: string,
    firstIdx: number,
    private readonly hooks: TranslatorHooks,
  ) {
    this.nextIdx = firstIdx;
  }

  get phase(): AgentPhase | undefined {
    return this.turnOpen ? this.currentPhase : undefined;
  }

  /** Index the next conversation message will get. */
  get messageCount(): number {
    return this.nextIdx;
  }

  /** Remembers that the next user message with this text belongs to `clientId` (FIFO, §1.5). */
  expectUserMessage(text: string, clientId: string): void {
    this.queuedClientIds.push({ text, clientId });
    if (this.queuedClientIds.length > MAX_QUEUED_CLIENT_IDS) this.queuedClientIds.shift();
  }

  /** The client_id of the user message at `idx`, for messages seen by this translator. */
  clientIdAt(idx: number): string | undefined {
    return this.clientIdsByIdx.get(idx);
  }

  /** The turn is over (the session emitted `agent.idle`): phases stop until the next run. */
  /**
   * The assistant message being streamed, as far as it got, marked interrupted; undefined when none
   * is open or nothing of it streamed. `sinceRevision`: only if it changed since then.
   */
  openPartial(sinceRevision = -1): { message: Message; revision: number } | undefined {
    const open = this.openMessage;
    if (!open?.partial || open.revision === 0 || open.revision === sinceRevision) return undefined;
    const partial = open.partial.current;
    const parsed = PiAssistantMessage.safeParse({
      stopReason: "aborted",
      timestamp: Date.now(),
      ...(partial as object),
    });
    if (!parsed.success) return undefined;
    const message = mapPiMessage(parsed.data, { sessionId: this.sessionId, idx: open.idx });
    message.stop_reason = "aborted";
    message.metadata = { ...message.metadata, [INTERRUPTED_KEY]: true };
    return { message, revision: open.revision };
  }

  /** pi died mid-message: ends the open message with what streamed (its message_end), if anything did. */
  interruptOpenMessage(): void {
    const partial = this.openPartial();
    this.openMessage = undefined;
    this.toolStreams = new Map();
    if (partial) this.hooks.emit("stream.message_end", { message: partial.message });
  }

  endTurn(): void {
    this.turnOpen = false;
    this.currentPhase = undefined;
    this.currentDetail = undefined;
    this.toolStartedAt.clear();
  }

  handle(event: PiEvent): void {
    switch (event.type) {
      case "agent_start":
        // A run starts with no tool running; also bounds the timing maps to one run.
        this.toolStartedAt.clear();
        this.toolDurations.clear();
        this.turnOpen = true;
        this.hooks.agentStarted();
        this.setPhase("generating");
        return;
      case "agent_end":
        this.hooks.agentEnded(lastAssistantStopReason(event.messages));
        return;
      case "turn_start":
      case "turn_end":
        return;
      case "message_start":
        this.messageStart(event.message);
        return;
      case "message_update":
        this.messageUpdate(event);
        return;
      case "message_end":
        this.messageEnd(event.message);
        return;
      case "tool_execution_start":
        this.toolStartedAt.set(event.toolCallId, Date.now());
        this.hooks.emit("tool.start", {
          tool_call_id: event.toolCallId,
          name: event.toolName,
          input: event.args,
        });
        this.setPhase("tool_running", event.toolName);
        return;
      case "tool_execution_update":
        this.hooks.emit("tool.progress", {
          tool_call_id: event.toolCallId,
          name: event.toolName,
          partial_output: blocksText(event.partialResult?.content ?? []),
        });
        return;
      case "tool_execution_end":
        this.toolEnd(event);
        return;
      case "queue_update":
        this.hooks.emit("queue.updated", { steering: event.steering, follow_up: event.followUp });
        return;
      case "compaction_start":
        this.hooks.emit("compact.start", { reason: event.reason });
        this.setPhase("compacting");
        return;
      case "compaction_end":
        this.compactionEnd(event);
        return;
      case "auto_retry_start":
        this.hooks.emit("retry.start", {
          attempt: event.attempt,
          max_attempts: event.maxAttempts,
          delay_ms: event.delayMs,
          error: event.errorMessage,
        });
        this.hooks.autoRetryStarted();
        this.setPhase("retrying");
        return;
      case "auto_retry_end":
        this.hooks.emit("retry.end", {
          success: event.success,
          attempt: event.attempt,
          ...(event.finalError === undefined ? {} : { final_error: event.finalError }),
        });
        return;
      case "session_info_changed":
        this.hooks.emit("session.title_changed", { title: event.name });
        this.hooks.titleChanged(event.name);
        return;
      case "thinking_level_changed":
        this.hooks.emit("config.thinking_level_changed", { level: event.level });
        return;
      case "extension_error":
        this.hooks.emit("notify", {
          level: "error",
          message: `extension ${event.extensionPath} failed in ${event.event}: ${event.error}`,
        });
        return;
      case "extension_ui_request":
        this.extensionUiRequest(event);
        return;
    }
  }

  /** Phase changes only inside a run, deduplicated (§1.6). */
  private setPhase(phase: AgentPhase, detail?: string): void {
    if (!this.turnOpen) return;
    if (phase === this.currentPhase && detail === this.currentDetail) return;
    this.currentPhase = phase;
    this.currentDetail = detail;
    this.hooks.emit("agent.working", detail === undefined ? { phase } : { phase, detail });
  }

  private messageStart(message: PiAgentMessage): void {
    if (!isConversationMessage(message)) return;
    const idx = this.nextIdx++;
    this.openMessage = {
      id: messageId(this.sessionId, idx),
      idx,
      partial: message.role === "assistant" ? new PartialMessage(message) : undefined,
      revision: 0,
    };
    this.toolStreams = new Map();
    const role = message.role === "toolResult" ? "tool" : message.role;
    this.hooks.emit("stream.message_start", { message_id: this.openMessage.id, role, idx });
  }

  private messageUpdate(event: PiEventOf<"message_update">): void {
    const open = this.openMessage;
    if (!open) {
      this.hooks.log(`message_update without message_start (${event.assistantMessageEvent.type})`);
      return;
    }
    const update = event.assistantMessageEvent;
    const contentIndex = update.contentIndex;
    // pi's partial copy is read only for a tool call's id and name (PI-RPC.md gotcha 4).
    const toolCall = update.type.startsWith("toolcall_")
      ? partialToolCall(update.partial, contentIndex)
      : undefined;
    open.partial?.apply(update, toolCall);
    open.revision += 1;
    switch (update.type) {
      case "text_start":
        this.setPhase("generating");
        return;
      case "thinking_start":
        this.setPhase("thinking");
        return;
      case "text_delta":
        this.hooks.emit("stream.text_delta", {
          message_id: open.id,
          delta: update.delta ?? "",
          content_index: contentIndex,
        });
        return;
      case "thinking_delta":
        this.hooks.emit("stream.thinking_delta", {
          message_id: open.id,
          delta: update.delta ?? "",
          content_index: contentIndex,
        });
        return;
      case "toolcall_start": {
        this.setPhase("generating");
        const stream: ToolCallStream = { started: false, held: [] };
        this.toolStreams.set(contentIndex, stream);
        this.tryStartToolCall(open, contentIndex, stream, toolCall);
        return;
      }
      case "toolcall_delta": {
        const stream = this.toolStreams.get(contentIndex) ?? { started: false, held: [] };
        this.toolStreams.set(contentIndex, stream);
        if (!stream.started) {
          stream.held.push(update.delta ?? "");
          if (toolCall) open.partial?.nameToolCall(contentIndex, toolCall);
          this.tryStartToolCall(open, contentIndex, stream, toolCall);
          return;
        }
        this.hooks.emit("stream.tool_call_delta", {
          message_id: open.id,
          tool_call_id: stream.id as string,
          delta: update.delta ?? "",
          content_index: contentIndex,
        });
        return;
      }
      case "toolcall_end": {
        const call = update.toolCall;
        if (!call) {
          this.hooks.log("toolcall_end without toolCall");
          return;
        }
        const stream = this.toolStreams.get(contentIndex) ?? { started: false, held: [] };
        this.tryStartToolCall(open, contentIndex, stream, { id: call.id, name: call.name });
        this.toolStreams.delete(contentIndex);
        this.hooks.emit("stream.tool_call_end", {
          message_id: open.id,
          tool_call_id: call.id,
          tool_call: { id: call.id, name: call.name, input: call.arguments },
          content_index: contentIndex,
        });
        return;
      }
      default:
        // text_end / thinking_end carry nothing new (the final message comes with message_end).
        return;
    }
  }

  /** Emits `stream.tool_call_start` once id and name are known, then the deltas held until then. */
  private tryStartToolCall(
    open: OpenMessage,
    contentIndex: number,
    stream: ToolCallStream,
    known: { id: string; name: string } | undefined,
  ): void {
    if (stream.started || !known) return;
    stream.started = true;
    stream.id = known.id;
    stream.name = known.name;
    this.hooks.emit("stream.tool_call_start", {
      message_id: open.id,
      tool_call_id: known.id,
      name: known.name,
      content_index: contentIndex,
    });
    for (const delta of stream.held) {
      this.hooks.emit("stream.tool_call_delta", {
        message_id: open.id,
        tool_call_id: known.id,
        delta,
        content_index: contentIndex,
      });
    }
    stream.held = [];
  }

  private messageEnd(message: PiAgentMessage): void {
    if (!isConversationMessage(message)) return;
    let open = this.openMessage;
    if (!open) {
      // pi always sends message_start first; if it did not, still give the message its own idx.
      this.messageStart(message);
      open = this.openMessage as OpenMessage;
    }
    this.openMessage = undefined;
    this.toolStreams = new Map();

    let clientId: string | undefined;
    if (message.role === "user") clientId = this.takeClientId(userText(message), open.idx);
    const durationMs = message.role === "toolResult" ? this.toolDurations.get(message.toolCallId) : undefined;
    if (message.role === "toolResult") this.toolDurations.delete(message.toolCallId);
    const mapped = mapPiMessage(message, {
      sessionId: this.sessionId,
      idx: open.idx,
      ...(clientId ? { clientId } : {}),
      ...(durationMs === undefined ? {} : { durationMs }),
    });
    this.hooks.emit("stream.message_end", { message: mapped });
    if (message.role !== "assistant") return;
    const reason = mapStopReason(message.stopReason) ?? "stop";
    this.hooks.emit("stream.done", { reason });
    if (message.stopReason === "error") {
      this.hooks.emit("agent.error", {
        error: message.errorMessage ?? "the model request failed",
        recoverable: true,
        ...(this.phase ? { phase: this.phase } : {}),
      });
    }
  }

  private takeClientId(text: string, idx: number): string | undefined {
    let at = this.queuedClientIds.findIndex((entry) => entry.text === text);
    // pi expands `/template args` and `/skill:name` before the user message exists: the oldest
    // slash command sent stands for it.
    if (at < 0) at = this.queuedClientIds.findIndex((entry) => entry.text.startsWith("/"));
    if (at < 0) return undefined;
    const [entry] = this.queuedClientIds.splice(at, 1);
    if (!entry) return undefined;
    this.clientIdsByIdx.set(idx, entry.clientId);
    if (this.clientIdsByIdx.size > MAX_REMEMBERED_CLIENT_IDS) {
      const oldest = this.clientIdsByIdx.keys().next().value;
      if (oldest !== undefined) this.clientIdsByIdx.delete(oldest);
    }
    return entry.clientId;
  }

  private toolEnd(event: PiEventOf<"tool_execution_end">): void {
    const startedAt = this.toolStartedAt.get(event.toolCallId);
    this.toolStartedAt.delete(event.toolCallId);
    const durationMs = startedAt === undefined ? undefined : Date.now() - startedAt;
    if (durationMs !== undefined) this.toolDurations.set(event.toolCallId, durationMs);
    this.hooks.emit("tool.end", {
      tool_call_id: event.toolCallId,
      name: event.toolName,
      output: blocksText(event.result?.content ?? []),
      is_error: event.isError,
      ...(durationMs === undefined ? {} : { duration_ms: durationMs }),
    });
    // With no tool left running the next step is the model call: leave `tool_running` so the
    // silence watchdog covers it again.
    if (this.toolStartedAt.size === 0) this.setPhase("generating");
  }

  private compactionEnd(event: PiEventOf<"compaction_end">): void {
    const success = !event.aborted && !event.errorMessage;
    this.hooks.emit("compact.end", {
      success,
      will_retry: event.willRetry,
      ...(event.errorMessage ? { error: event.errorMessage } : {}),
      ...(event.result?.summary === undefined ? {} : { summary: event.result.summary }),
      ...(event.result?.tokensBefore === undefined ? {} : { tokens_before: event.result.tokensBefore }),
    });
    this.hooks.compactionEnded(event.willRetry);
    if (this.currentPhase === "compacting") this.setPhase("generating");
  }

  private extensionUiRequest(event: PiEventOf<"extension_ui_request">): void {
    const title = event.title ?? "";
    const timeout = event.timeout;
    const withTimeout = timeout === undefined ? {} : { timeout };
    switch (event.method) {
      case "select":
        this.requestInput(
          { type: "select", request_id: event.id, title, options: event.options ?? [], ...withTimeout },
          timeout,
        );
        return;
      case "confirm":
        this.requestInput(
          { type: "confirm", request_id: event.id, title, message: event.message ?? "", ...withTimeout },
          timeout,
        );
        return;
      case "input":
        this.requestInput(
          {
            type: "input",
            request_id: event.id,
            title,
            ...(event.placeholder === undefined ? {} : { placeholder: event.placeholder }),
            ...(event.prefill === undefined ? {} : { prefill: event.prefill }),
            ...withTimeout,
          },
          timeout,
        );
        return;
      case "editor":
        this.requestInput(
          {
            type: "input",
            request_id: event.id,
            title,
            multiline: true,
            ...(event.prefill === undefined ? {} : { prefill: event.prefill }),
            ...withTimeout,
          },
          timeout,
        );
        return;
      case "notify":
        this.hooks.emit("notify", { level: notifyLevel(event.notifyType), message: event.message ?? "" });
        return;
      case "setStatus":
        this.status(event.statusKey ?? "", event.statusText ?? null);
        return;
      default:
        // setWidget, setTitle, set_editor_text: terminal UI concerns with no canonical event.
        this.hooks.log(`ignored extension_ui_request ${event.method}`);
        return;
    }
  }

  private requestInput(request: InputRequest, timeoutMs: number | undefined): void {
    this.hooks.emit("agent.input_needed", { request });
    this.hooks.inputRequested(request, timeoutMs);
  }

  /** `oqto_phase` text is `<phase>` or `<phase>:<detail>`; `oqto_title_changed` text is the title. */
  private status(key: string, text: string | null): void {
    if (key === PHASE_STATUS_KEY) {
      if (text === null) return;
      const split = text.indexOf(":");
      const phase = AgentPhase.safeParse(split < 0 ? text : text.slice(0, split));
      if (!phase.success) {
        this.hooks.log(`ignored ${PHASE_STATUS_KEY} status with unknown phase: ${text}`);
        return;
      }
      this.setPhase(phase.data, split < 0 ? undefined : text.slice(split + 1).trim());
      return;
    }
    if (key === TITLE_STATUS_KEY) {
      if (!text) return;
      this.hooks.emit("session.title_changed", { title: text });
      this.hooks.titleChanged(text);
      return;
    }
    this.hooks.emit("status", { key, text });
  }
}

function notifyLevel(type: string | undefined): "info" | "warning" | "error" {
  return type === "warning" || type === "error" ? type : "info";
}

function lastAssistantStopReason(messages: PiAgentMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message && isConversationMessage(message) && message.role === "assistant") {
      return message.stopReason;
    }
  }
  return undefined;
}
