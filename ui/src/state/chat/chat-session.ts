import { computed, type Signal, signal } from "@preact/signals";
import {
  type AgentEvent,
  type AgentEventOf,
  type AgentPhase,
  type InputRequest,
  type Message,
  type MessageRole,
  type Model,
  type SessionState,
  SYSTEM_SESSION_ID,
  type ToolCallPart,
  type Workspace,
} from "../../../../src/protocol/index.ts";
import {
  ForkPointsResult,
  ForkResult,
  MessagesResult,
  type ModelRef,
  ModelsResult,
  NoData,
  SessionCreateResult,
  StateResult,
  SubscribeResult,
} from "../../lib/command-results.ts";
import { errorText } from "../../lib/errors.ts";
import { CommandError, type MuxClient } from "../../lib/mux-client.ts";
import { uuidv7 } from "../../lib/uuidv7.ts";
import { patchSession } from "../history/session-history.ts";
import { navigate, workspacePath } from "../router.ts";
import { takeDraft } from "./drafts.ts";
import {
  isText,
  isThinking,
  isToolCall,
  MessageModel,
  TextPartModel,
  ThinkingPartModel,
  ToolCallModel,
  ToolResultModel,
} from "./message-model.ts";

export type SendMode = "prompt" | "steer" | "follow_up";
export type InputAnswer = { value: string } | { confirmed: boolean } | { cancelled: true };

export interface ChatAlert {
  readonly id: string;
  readonly level: "error" | "warning" | "info";
  readonly text: string;
}

export type LoadState = { status: "loading" } | { status: "ready" } | { status: "failed"; error: string };

/** States in which the agent is working: new messages become steer / follow-up. */
const BUSY_STATES: ReadonlySet<SessionState> = new Set(["streaming", "aborting", "compacting", "stopping"]);
/** Live events held while history is being refetched; past this, refetch once more instead. */
const MAX_BUFFERED_EVENTS = 5000;
const NO_QUEUE = { steering: [] as readonly string[], followUp: [] as readonly string[] };

/**
 * One open conversation: its messages as signals, the event reducer, and resume (PROTOCOL.md §1.1,
 * §2.6): events with `seq` ≤ the last seen are dropped; a reconnect re-subscribes after that seq;
 * `stream.resync_required` or a fresh open refetches `get_state` + `get_messages`.
 */
export class ChatSession {
  readonly messages = signal<readonly MessageModel[]>([]);
  /** `null` until the first `get_state` or `session.create` reply. */
  readonly state = signal<SessionState | null>(null);
  readonly phase = signal<{ phase: AgentPhase; detail?: string } | null>(null);
  readonly busy = computed(() => this.state.value !== null && BUSY_STATES.has(this.state.value));
  readonly queue = signal(NO_QUEUE);
  readonly model = signal<ModelRef | null>(null);
  readonly title = signal<string | null>(null);
  readonly alerts = signal<readonly ChatAlert[]>([]);
  readonly pendingInputs = signal<readonly InputRequest[]>([]);
  readonly load = signal<LoadState>({ status: "loading" });
  /** The composer's text; a fork hands the prompt it started from to the new session's composer. */
  readonly draft: Signal<string>;

  /** How this view came to be, so that "Try again" repeats the right step. */
  private origin: "create" | "open" = "open";
  private lastSeq = 0;
  private epoch: string | null = null;
  private subscribed = false;
  private disposed = false;
  private readonly byId = new Map<string, MessageModel>();
  private readonly toolCalls = new Map<string, ToolCallModel>();
  private optimistic: MessageModel[] = [];
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private buffering = false;
  private buffered: AgentEvent[] = [];
  private alertCounter = 0;
  private readonly disposers: (() => void)[] = [];

  constructor(
    private readonly client: MuxClient,
    readonly id: string,
    readonly workspace: Workspace,
  ) {
    this.draft = signal(takeDraft(id) ?? "");
    this.disposers.push(
      client.onSessionEvent(id, (event) => this.receive(event)),
      client.onReady(() => void this.resume()),
    );
  }

  /** Starts a new session in the workspace (the caller is subscribed by `session.create`). */
  async create(): Promise<void> {
    this.origin = "create";
    this.state.value = "starting";
    this.load.value = { status: "ready" };
    try {
      await this.startProcess();
      await this.refreshState();
    } catch (error) {
      // Not "starting" any more: the error below is the whole story (e.g. the sandbox refused to start pi).
      this.state.value = null;
      this.load.value = { status: "failed", error: `Could not start the session: ${errorText(error)}` };
    }
  }

  /** Opens an existing session: history and state first, then live events after the state's seq. */
  async open(): Promise<void> {
    this.load.value = { status: "loading" };
    try {
      await this.resync();
      await this.subscribe();
      this.load.value = { status: "ready" };
    } catch (error) {
      const text =
        error instanceof CommandError && error.code === "session_not_found"
          ? "This session does not exist (or is not yours)."
          : `Could not load the session: ${errorText(error)}`;
      this.load.value = { status: "failed", error: text };
    }
  }

  /** Repeats the failed create or open. */
  retry(): Promise<void> {
    return this.origin === "create" ? this.create() : this.open();
  }

  dispose(): void {
    this.disposed = true;
    for (const dispose of this.disposers) dispose();
    if (this.subscribed) {
      this.client.command({ cmd: "session.unsubscribe", session_id: this.id }, NoData).catch(() => undefined);
    }
  }

  /** Sends a user message. On failure the error is shown and rethrown, so the composer can keep the text. */
  async send(text: string, mode: SendMode): Promise<void> {
    const clientId = uuidv7();
    let pending: MessageModel | null = null;
    if (mode === "prompt") {
      pending = new MessageModel(`pending:${clientId}`, Number.MAX_SAFE_INTEGER, "user", clientId);
      pending.optimistic.value = true;
      pending.ensurePart(0, isText, () => new TextPartModel(text, "plain"));
      this.optimistic.push(pending);
      this.publishMessages();
    }
    try {
      if (this.state.value === "closed") await this.startProcess();
      await this.client.command(
        { cmd: mode, session_id: this.id, message: text, client_id: clientId },
        NoData,
      );
    } catch (error) {
      if (pending) {
        this.optimistic = this.optimistic.filter((m) => m !== pending);
        this.publishMessages();
      }
      this.addAlert("error", `Message not sent: ${errorText(error)}`);
      throw error;
    }
  }

  async abort(): Promise<void> {
    const before = this.state.value;
    this.state.value = "aborting";
    try {
      await this.client.command({ cmd: "abort", session_id: this.id }, NoData);
      // The reply follows the turn's agent.idle; if there was no turn to end, nothing else will say so.
      if (this.state.value === "aborting") this.setState("idle");
    } catch (error) {
      if (this.state.value === "aborting") this.state.value = before;
      this.addAlert("error", `Abort failed: ${errorText(error)}`);
    }
  }

  /** Models the agent can use: asked of the session's own process when it runs (its models.json applies). */
  async listModels(): Promise<Model[]> {
    const running = this.state.value !== null && this.state.value !== "closed";
    return running
      ? this.client.command({ cmd: "get_models", session_id: this.id }, ModelsResult)
      : this.client.command(
          { cmd: "get_models", session_id: SYSTEM_SESSION_ID, workdir: this.workspace.path },
          ModelsResult,
        );
  }

  async setModel(provider: string, modelId: string): Promise<void> {
    try {
      if (this.state.value === "closed") await this.startProcess();
      await this.client.command(
        { cmd: "set_model", session_id: this.id, provider, model_id: modelId },
        NoData,
      );
      this.model.value = { provider, id: modelId };
    } catch (error) {
      this.addAlert("error", `Could not switch the model: ${errorText(error)}`);
    }
  }

  async answerInput(requestId: string, answer: InputAnswer): Promise<void> {
    try {
      await this.client.command(
        { cmd: "input_response", session_id: this.id, request_id: requestId, ...answer },
        NoData,
      );
      this.removeInput(requestId);
    } catch (error) {
      if (error instanceof CommandError && error.code === "not_found") this.removeInput(requestId);
      this.addAlert("error", `Answer not delivered: ${errorText(error)}`);
    }
  }

  /**
   * Forks the conversation at one of its user messages: pi starts a new session holding everything
   * before that message, and this process moves to it (the old stream ends with `replaced`). The fork
   * point is pi's entry of the n-th user message. Resolves with the new session, or null if it failed
   * (the reason is shown) or an extension cancelled it.
   */
  async fork(message: MessageModel): Promise<ForkResult | null> {
    const ordinal = this.userMessages().indexOf(message);
    try {
      if (ordinal < 0) throw new Error("this message is not part of the stored conversation yet");
      if (this.busy.value) throw new Error("the agent is still working; fork once it is idle");
      if (this.state.value === "closed") await this.startProcess();
      const points = await this.client.command(
        { cmd: "get_fork_points", session_id: this.id },
        ForkPointsResult,
      );
      const point = points[ordinal];
      if (!point) throw new Error("the agent does not know this message as a fork point");
      const result = await this.client.command(
        { cmd: "fork", session_id: this.id, entry_id: point.entry_id },
        ForkResult,
      );
      if (result.cancelled) {
        this.addAlert("info", "The fork was cancelled.");
        return null;
      }
      return result;
    } catch (error) {
      this.addAlert("error", `Could not fork: ${errorText(error)}`);
      return null;
    }
  }

  /** The user messages that are in history (not the ones still on their way). */
  userMessages(): MessageModel[] {
    return this.messages.value.filter((m) => m.role === "user" && !m.optimistic.value);
  }

  dismissAlert(id: string): void {
    this.alerts.value = this.alerts.value.filter((a) => a.id !== id);
  }

  // ---- transport -------------------------------------------------------------------------------

  /** `session.create` for a new or stopped session; its new stream counts from seq 1. */
  private async startProcess(): Promise<void> {
    const result = await this.client.command(
      { cmd: "session.create", session_id: this.id, config: { harness: "pi", cwd: this.workspace.path } },
      SessionCreateResult,
    );
    this.subscribed = true;
    this.epoch = result.epoch;
    // Someone else had it running: what happened there is not in this view yet.
    if (result.already_running) await this.resync();
  }

  private async subscribe(): Promise<void> {
    // A closed session has no live stream: a future one starts over at seq 1, so ask for live events only.
    const afterSeq = this.state.value === "closed" ? {} : { after_seq: this.lastSeq };
    const result = await this.client.command(
      { cmd: "session.subscribe", session_id: this.id, ...afterSeq },
      SubscribeResult,
    );
    this.subscribed = true;
    const epochChanged = this.epoch !== null && result.epoch !== this.epoch;
    if (result.resync_required || epochChanged) await this.resync();
    else this.epoch = result.epoch;
  }

  /** After a reconnect: continue where the last seen event left off. */
  private async resume(): Promise<void> {
    if (this.disposed) return;
    const load = this.load.value;
    if (load.status === "failed" && !this.subscribed) {
      await this.retry();
      return;
    }
    if (!this.subscribed) return;
    try {
      await this.subscribe();
    } catch (error) {
      this.addAlert("error", `Could not resume live updates: ${errorText(error)}`);
    }
  }

  private resync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = this.runResync().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /**
   * State before history: whatever happens between the two calls is replayed (seq > state.seq) and
   * lands on messages that are already there (same ids live and in history), instead of being lost.
   */
  private async runResync(): Promise<void> {
    do {
      this.syncAgain = false;
      this.buffering = true;
      this.buffered = [];
      try {
        const state = await this.client.command({ cmd: "get_state", session_id: this.id }, StateResult);
        const history = await this.client.command(
          { cmd: "get_messages", session_id: this.id },
          MessagesResult,
        );
        this.replaceHistory(history.messages);
        this.applyState(state);
        this.epoch = state.epoch;
        this.lastSeq = state.session_state === "closed" ? 0 : state.seq;
      } finally {
        this.buffering = false;
      }
      const held = this.buffered;
      this.buffered = [];
      for (const event of held) this.receive(event);
    } while (this.syncAgain && !this.disposed);
  }

  private async refreshState(): Promise<void> {
    this.applyState(await this.client.command({ cmd: "get_state", session_id: this.id }, StateResult));
  }

  private applyState(state: StateResult): void {
    this.state.value = state.session_state;
    this.phase.value = state.phase ? { phase: state.phase } : null;
    if (state.model) this.model.value = state.model;
    if (state.sessionName) this.title.value = state.sessionName;
    this.pendingInputs.value = state.pending_inputs ?? [];
  }

  // ---- events ----------------------------------------------------------------------------------

  private receive(event: AgentEvent): void {
    if (this.disposed) return;
    if (event.event === "stream.resync_required") {
      this.resync().catch((error) => this.addAlert("error", `Could not catch up: ${errorText(error)}`));
      return;
    }
    if (this.buffering) {
      if (this.buffered.length < MAX_BUFFERED_EVENTS) this.buffered.push(event);
      else this.syncAgain = true;
      return;
    }
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.apply(event);
  }

  private apply(event: AgentEvent): void {
    switch (event.event) {
      case "session.created":
        if (this.state.value === null || this.state.value === "starting" || this.state.value === "closed") {
          this.setState("idle");
        }
        return;
      case "session.closed":
        this.onClosed(event);
        return;
      case "session.title_changed":
        this.title.value = event.title;
        patchSession(this.id, { title: event.title });
        return;
      case "agent.working":
        if (this.state.value !== "aborting") this.setState("streaming");
        this.phase.value = { phase: event.phase, detail: event.detail };
        return;
      case "agent.idle":
        this.onIdle(event);
        return;
      case "agent.error":
        this.addAlert("error", event.code ? `${event.error} (${event.code})` : event.error);
        return;
      case "agent.input_needed":
        this.pendingInputs.value = [
          ...this.pendingInputs.value.filter((r) => r.request_id !== event.request.request_id),
          event.request,
        ];
        return;
      case "agent.input_resolved":
        this.removeInput(event.request_id);
        return;
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
      case "retry.start":
        this.phase.value = { phase: "retrying" };
        this.setAlert(
          "retry",
          "warning",
          `Retrying after an error (attempt ${event.attempt} of ${event.max_attempts}): ${event.error}`,
        );
        return;
      case "retry.end":
        this.dismissAlert("retry");
        if (!event.success) this.addAlert("error", `Retries failed: ${event.final_error ?? "unknown error"}`);
        return;
      case "compact.start":
        this.setAlert("compact", "info", "Compacting the conversation…");
        return;
      case "compact.end":
        this.dismissAlert("compact");
        if (!event.success && !event.will_retry) {
          this.addAlert("error", `Compaction failed${event.error ? `: ${event.error}` : ""}`);
        }
        return;
      case "config.model_changed":
        this.model.value = { provider: event.provider, id: event.model_id };
        return;
      case "queue.updated":
        this.queue.value = { steering: event.steering, followUp: event.follow_up };
        return;
      case "notify":
        this.addAlert(event.level, event.message);
        return;
      // Thinking level and extension status lines are not shown in this view.
      case "config.thinking_level_changed":
      case "status":
      case "stream.done":
      case "response":
      case "stream.resync_required":
        return;
    }
  }

  private onClosed(event: AgentEventOf<"session.closed">): void {
    this.setState("closed");
    this.phase.value = null;
    this.queue.value = NO_QUEUE;
    this.pendingInputs.value = [];
    this.subscribed = false;
    // The stream ended; a resumed process starts a new one at seq 1 with a new epoch.
    this.lastSeq = 0;
    this.epoch = null;
    for (const message of this.byId.values()) message.streaming.value = false;
    if (event.reason === "exited") this.addAlert("error", "The agent process exited.");
    if (event.reason === "runner_shutdown") this.addAlert("warning", "The agent runner shut down.");
    // session.new / switch / fork moved the process (and this view's subscription) to another session.
    if (event.reason === "replaced" && event.next_session_id) {
      navigate(workspacePath(this.workspace.name, event.next_session_id));
    }
  }

  private onIdle(event: AgentEventOf<"agent.idle">): void {
    this.setState("idle");
    this.phase.value = null;
    for (const message of this.byId.values()) message.streaming.value = false;
    // History is the truth after a turn: if this view missed messages (opened mid-turn), refetch it.
    const version = event.message_version;
    if (version && version.message_count !== this.byId.size) {
      this.resync().catch((error) =>
        this.addAlert("error", `Could not reload the conversation: ${errorText(error)}`),
      );
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
    this.publishMessages();
  }

  /** The message a delta belongs to; created when the view joined after its start. */
  private liveMessage(messageId: string): MessageModel {
    const known = this.byId.get(messageId);
    if (known) return known;
    const message = new MessageModel(messageId, indexFromMessageId(messageId), "assistant");
    message.streaming.value = true;
    this.byId.set(messageId, message);
    this.publishMessages();
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
    this.publishMessages();
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

  private replaceHistory(messages: readonly Message[]): void {
    const ids = new Set(messages.map((m) => m.id));
    for (const id of [...this.byId.keys()]) if (!ids.has(id)) this.byId.delete(id);
    for (const message of messages) this.upsertFinal(message);
    this.publishMessages();
  }

  private publishMessages(): void {
    const real = [...this.byId.values()].sort((a, b) => a.idx - b.idx);
    this.messages.value = [...real, ...this.optimistic];
  }

  private setState(state: SessionState): void {
    this.state.value = state;
    patchSession(this.id, { state });
  }

  private removeInput(requestId: string): void {
    this.pendingInputs.value = this.pendingInputs.value.filter((r) => r.request_id !== requestId);
  }

  private addAlert(level: ChatAlert["level"], text: string): void {
    this.alertCounter += 1;
    this.setAlert(`a${this.alertCounter}`, level, text);
  }

  private setAlert(id: string, level: ChatAlert["level"], text: string): void {
    this.alerts.value = [...this.alerts.value.filter((a) => a.id !== id), { id, level, text }];
  }
}

/** `<session_id>#<idx>` → idx (PROTOCOL.md §1.4); ordering only, so unknown shapes sort last. */
function indexFromMessageId(messageId: string): number {
  const idx = Number(messageId.slice(messageId.lastIndexOf("#") + 1));
  return Number.isInteger(idx) ? idx : Number.MAX_SAFE_INTEGER - 1;
}
