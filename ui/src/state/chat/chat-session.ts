import { computed, type Signal, signal } from "@preact/signals";
import { z } from "zod";
import {
  type AgentCommandInfo,
  AgentCommandList,
  type AgentEvent,
  type AgentEventOf,
  type AgentPhase,
  type AgentQueueFrame,
  type ImageInput,
  type InputRequest,
  type Model,
  type SessionState,
  SYSTEM_SESSION_ID,
  ThinkingLevel,
  type Workspace,
} from "../../../../src/protocol/index.ts";
import {
  ForkPointsResult,
  ForkResult,
  type ModelRef,
  ModelsResult,
  NoData,
  StateResult,
} from "../../lib/command-results.ts";
import { errorText } from "../../lib/errors.ts";
import { CommandError, type MuxClient } from "../../lib/mux-client.ts";
import { uuidv7 } from "../../lib/uuidv7.ts";
import { patchSession } from "../history/session-history.ts";
import { navigate, workspacePath } from "../router.ts";
import { ChatAlerts } from "./chat-alerts.ts";
import { ChatMessages } from "./chat-messages.ts";
import { ChatStream } from "./chat-stream.ts";
import { takeDraft } from "./drafts.ts";
import type { MessageModel } from "./message-model.ts";
import { OlderMessages } from "./older-messages.ts";

export type SendMode = "prompt" | "steer" | "follow_up";
export type InputAnswer = { value: string } | { confirmed: boolean } | { cancelled: true };

export type LoadState = { status: "loading" } | { status: "ready" } | { status: "failed"; error: string };

/** States in which the agent is working: new messages become steer / follow-up. */
const BUSY_STATES: ReadonlySet<SessionState> = new Set(["streaming", "aborting", "compacting", "stopping"]);
/** A message command's reply: empty, or its place in the admission queue (PROTOCOL.md §2.2.1). */
const QueuedResult = z
  .object({ queued: z.object({ position: z.number(), queued_at: z.number() }).optional() })
  .loose()
  .optional();
const NO_QUEUE = { steering: [] as readonly string[], followUp: [] as readonly string[] };

/**
 * One open conversation: its state and messages as signals, the commands of its view, and the
 * event reducer. Messages live in ChatMessages; seq, epoch and resume in ChatStream.
 */
export class ChatSession {
  private readonly store = new ChatMessages();
  readonly messages = this.store.messages;
  /** Messages before the first one held; `older` fetches them as the reader goes back. */
  readonly olderCount = this.store.olderCount;
  readonly older: OlderMessages;
  /** `null` until the first `get_state` or `session.create` reply. */
  readonly state = signal<SessionState | null>(null);
  readonly phase = signal<{ phase: AgentPhase; detail?: string } | null>(null);
  /** The session's place in the server's admission queue while its prompt waits for a slot, else null. */
  readonly admission = signal<{ position: number; queuedAt: number } | null>(null);
  /** Working, or waiting for admission: the composer steers and offers Stop. */
  readonly busy = computed(
    () => this.admission.value !== null || (this.state.value !== null && BUSY_STATES.has(this.state.value)),
  );
  readonly queue = signal(NO_QUEUE);
  readonly model = signal<ModelRef | null>(null);
  /** pi's reasoning effort for the next turn; `null` until the session's state told it. */
  readonly thinkingLevel = signal<ThinkingLevel | null>(null);
  readonly title = signal<string | null>(null);
  private readonly alertList = new ChatAlerts();
  readonly alerts = this.alertList.alerts;
  readonly pendingInputs = signal<readonly InputRequest[]>([]);
  readonly load = signal<LoadState>({ status: "loading" });
  /** The composer's text; a fork hands the prompt it started from to the new session's composer. */
  readonly draft: Signal<string>;

  /** How this view came to be, so that "Try again" repeats the right step. */
  private origin: "create" | "open" = "open";
  private readonly stream: ChatStream;
  private readonly disposers: (() => void)[] = [];
  /** Messages shown while their prompt waits for admission. */
  private readonly queuedMessages: MessageModel[] = [];

  constructor(
    private readonly client: MuxClient,
    readonly id: string,
    readonly workspace: Workspace,
  ) {
    this.draft = signal(takeDraft(id) ?? "");
    this.older = new OlderMessages(client, id, this.store);
    this.stream = new ChatStream(client, id, workspace.path, {
      state: () => this.state.value,
      reset: (state, history) => {
        this.store.replaceHistory(history);
        this.applyState(state);
      },
      apply: (event) => this.apply(event),
      failed: (text) => this.alertList.add("error", text),
    });
    this.disposers.push(
      client.onSessionEvent(id, (event) => this.stream.receive(event)),
      client.onSessionQueue(id, (frame) => this.onQueue(frame)),
      client.onReady(() => void this.resume()),
    );
  }

  /** Starts a new session in the workspace (the caller is subscribed by `session.create`). */
  async create(): Promise<void> {
    this.origin = "create";
    this.state.value = "starting";
    this.load.value = { status: "ready" };
    try {
      await this.stream.start();
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
      await this.stream.resync();
      await this.stream.subscribe();
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
    for (const dispose of this.disposers) dispose();
    this.stream.dispose();
  }

  /** Sends a user message. On failure the error is shown and rethrown, so the composer can keep the text. */
  async send(text: string, mode: SendMode, images: readonly ImageInput[] = []): Promise<void> {
    const clientId = uuidv7();
    const pending = mode === "prompt" ? this.store.addPending(clientId, text, images) : null;
    try {
      if (this.state.value === "closed") await this.stream.start();
      const result = await this.client.command(
        {
          cmd: mode,
          session_id: this.id,
          message: text,
          client_id: clientId,
          ...(images.length > 0 ? { images: [...images] } : {}),
        },
        QueuedResult,
      );
      // Over the limit: the prompt waits in the server's queue (its frames keep the position current).
      if (result?.queued) {
        if (pending) this.queuedMessages.push(pending);
        if (this.admission.value === null)
          this.admission.value = { position: result.queued.position, queuedAt: result.queued.queued_at };
      }
    } catch (error) {
      if (pending) this.store.dropPending(pending);
      this.alertList.add("error", `Message not sent: ${errorText(error)}`);
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
      this.alertList.add("error", `Abort failed: ${errorText(error)}`);
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

  /** pi's commands (prompt templates, skills, extension commands); a stopped session is started to ask its pi. */
  async listCommands(): Promise<AgentCommandInfo[]> {
    if (this.state.value === "closed") await this.stream.start();
    return this.client.command({ cmd: "get_commands", session_id: this.id }, AgentCommandList);
  }

  /** pi summarizes the conversation so far to free context; compact.start / compact.end show it. */
  async compact(instructions: string): Promise<void> {
    try {
      if (this.state.value === "closed") await this.stream.start();
      await this.client.command(
        { cmd: "compact", session_id: this.id, ...(instructions ? { instructions } : {}) },
        NoData,
      );
    } catch (error) {
      this.alertList.add("error", `Could not compact: ${errorText(error)}`);
    }
  }

  /** Names the session; session.title_changed brings the new title to every view. */
  async rename(name: string): Promise<void> {
    try {
      if (this.state.value === "closed") await this.stream.start();
      await this.client.command({ cmd: "set_session_name", session_id: this.id, name }, NoData);
    } catch (error) {
      this.alertList.add("error", `Could not rename the session: ${errorText(error)}`);
    }
  }

  async setModel(provider: string, modelId: string): Promise<void> {
    try {
      if (this.state.value === "closed") await this.stream.start();
      await this.client.command(
        { cmd: "set_model", session_id: this.id, provider, model_id: modelId },
        NoData,
      );
      this.model.value = { provider, id: modelId };
    } catch (error) {
      this.alertList.add("error", `Could not switch the model: ${errorText(error)}`);
    }
  }

  async setThinkingLevel(level: ThinkingLevel): Promise<void> {
    try {
      if (this.state.value === "closed") await this.stream.start();
      await this.client.command({ cmd: "set_thinking_level", session_id: this.id, level }, NoData);
      this.thinkingLevel.value = level;
    } catch (error) {
      this.alertList.add("error", `Could not change the thinking level: ${errorText(error)}`);
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
      this.alertList.add("error", `Answer not delivered: ${errorText(error)}`);
    }
  }

  /**
   * Forks the conversation at one of its user messages: pi starts a new session holding everything
   * before that message, and this process moves to it (the old stream ends with `replaced`). The fork
   * point is pi's entry of the n-th user message from the end (older messages may not be held).
   * Resolves with the new session, or null if it failed (the reason is shown) or an extension
   * cancelled it.
   */
  async fork(message: MessageModel): Promise<ForkResult | null> {
    const held = this.userMessages();
    const fromEnd = held.length - held.indexOf(message);
    try {
      if (fromEnd > held.length) throw new Error("this message is not part of the stored conversation yet");
      if (this.busy.value) throw new Error("the agent is still working; fork once it is idle");
      if (this.state.value === "closed") await this.stream.start();
      const points = await this.client.command(
        { cmd: "get_fork_points", session_id: this.id },
        ForkPointsResult,
      );
      const point = points[points.length - fromEnd];
      if (!point) throw new Error("the agent does not know this message as a fork point");
      const result = await this.client.command(
        { cmd: "fork", session_id: this.id, entry_id: point.entry_id },
        ForkResult,
      );
      if (result.cancelled) {
        this.alertList.add("info", "The fork was cancelled.");
        return null;
      }
      return result;
    } catch (error) {
      this.alertList.add("error", `Could not fork: ${errorText(error)}`);
      return null;
    }
  }

  /** The user messages that are in history (not the ones still on their way). */
  userMessages(): MessageModel[] {
    return this.messages.value.filter((m) => m.role === "user" && !m.optimistic.value);
  }

  dismissAlert(id: string): void {
    this.alertList.dismiss(id);
  }

  // ---- transport -------------------------------------------------------------------------------

  /** After a reconnect: continue where the last seen event left off. */
  private async resume(): Promise<void> {
    if (this.stream.disposed) return;
    const load = this.load.value;
    if (load.status === "failed" && !this.stream.subscribed) {
      await this.retry();
      return;
    }
    if (!this.stream.subscribed) return;
    try {
      await this.stream.subscribe();
    } catch (error) {
      this.alertList.add("error", `Could not resume live updates: ${errorText(error)}`);
    }
  }

  private async refreshState(): Promise<void> {
    this.applyState(await this.client.command({ cmd: "get_state", session_id: this.id }, StateResult));
  }

  private applyState(state: StateResult): void {
    this.state.value = state.session_state;
    this.phase.value = state.phase ? { phase: state.phase } : null;
    if (state.model) this.model.value = state.model;
    if (state.thinkingLevel) this.thinkingLevel.value = state.thinkingLevel;
    if (state.sessionName) this.title.value = state.sessionName;
    this.pendingInputs.value = state.pending_inputs ?? [];
  }

  // ---- events ----------------------------------------------------------------------------------

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
        this.alertList.add("error", event.code ? `${event.error} (${event.code})` : event.error);
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
      case "stream.text_delta":
      case "stream.thinking_delta":
      case "stream.tool_call_start":
      case "stream.tool_call_delta":
      case "stream.tool_call_end":
      case "stream.message_end":
      case "tool.start":
      case "tool.progress":
      case "tool.end":
        this.store.apply(event);
        return;
      case "retry.start":
        this.phase.value = { phase: "retrying" };
        this.alertList.set(
          "retry",
          "warning",
          `Retrying after an error (attempt ${event.attempt} of ${event.max_attempts}): ${event.error}`,
        );
        return;
      case "retry.end":
        this.alertList.dismiss("retry");
        if (!event.success)
          this.alertList.add("error", `Retries failed: ${event.final_error ?? "unknown error"}`);
        return;
      case "compact.start":
        this.alertList.set("compact", "info", "Compacting the conversation…");
        return;
      case "compact.end":
        this.alertList.dismiss("compact");
        if (!event.success && !event.will_retry) {
          this.alertList.add("error", `Compaction failed${event.error ? `: ${event.error}` : ""}`);
        }
        return;
      case "config.model_changed":
        this.model.value = { provider: event.provider, id: event.model_id };
        return;
      case "queue.updated":
        this.queue.value = { steering: event.steering, followUp: event.follow_up };
        return;
      case "notify":
        this.alertList.add(event.level, event.message);
        return;
      case "config.thinking_level_changed": {
        const level = ThinkingLevel.safeParse(event.level);
        this.thinkingLevel.value = level.success ? level.data : null;
        return;
      }
      // Extension status lines are not shown in this view.
      case "status":
      case "stream.done":
      case "response":
      case "stream.resync_required":
        return;
    }
  }

  private onQueue(frame: AgentQueueFrame): void {
    if (frame.position !== null) {
      this.admission.value = { position: frame.position, queuedAt: frame.queued_at };
      return;
    }
    this.admission.value = null;
    const queued = this.queuedMessages.splice(0);
    // Aborted, closed or failed: the waiting messages were never sent.
    if (frame.reason !== "admitted") for (const message of queued) this.store.dropPending(message);
    // Admitted: the turn's own events follow; until they come the session counts as working.
    if (frame.reason === "admitted" && this.state.value !== "aborting") this.setState("streaming");
    if (frame.reason === "failed") {
      this.alertList.add("error", `The queued message could not start: ${frame.error ?? "unknown error"}`);
    }
  }

  private onClosed(event: AgentEventOf<"session.closed">): void {
    this.setState("closed");
    this.phase.value = null;
    this.queue.value = NO_QUEUE;
    this.pendingInputs.value = [];
    this.stream.ended();
    this.store.stopStreaming();
    if (event.reason === "exited") this.alertList.add("error", "The agent process exited.");
    if (event.reason === "runner_shutdown") this.alertList.add("warning", "The agent runner shut down.");
    // session.new / switch / fork moved the process (and this view's subscription) to another session.
    if (event.reason === "replaced" && event.next_session_id) {
      navigate(workspacePath(this.workspace.name, event.next_session_id));
    }
  }

  private onIdle(event: AgentEventOf<"agent.idle">): void {
    this.setState("idle");
    this.phase.value = null;
    this.store.stopStreaming();
    // History is the truth after a turn: if this view missed messages (opened mid-turn), refetch it.
    const version = event.message_version;
    if (version && version.message_count !== this.store.count) {
      this.stream
        .resync()
        .catch((error) =>
          this.alertList.add("error", `Could not reload the conversation: ${errorText(error)}`),
        );
    }
  }

  private setState(state: SessionState): void {
    this.state.value = state;
    patchSession(this.id, { state });
  }

  private removeInput(requestId: string): void {
    this.pendingInputs.value = this.pendingInputs.value.filter((r) => r.request_id !== requestId);
  }
}
