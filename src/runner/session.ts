/**
 * One Oqto session bound to one pi session: its pi process, event stream (seq, epoch, replay),
 * state machine and turn rules (PROTOCOL.md §1.6, §1.7).
 */
import { type AgentPhase, ProtocolError, type SessionState } from "../protocol/common.ts";
import type { EventName, EventPayload } from "../protocol/events.ts";
import type { InputRequest } from "../protocol/message.ts";
import type { SubscribeResult } from "../protocol/runner.ts";
import type { PiExit, PiProcess } from "./harness/pi/pi-process.ts";
import type { PiCommand, PiEvent, PiResponse } from "./harness/pi/pi-schemas.ts";
import type { ConversationSync, Lineage, StoredMessages } from "./history/conversation-sync.ts";
import { TurnCheckpoint } from "./history/turn-checkpoint.ts";
import type { SessionDeps, SessionInit } from "./session-deps.ts";
import { liveConversationSync } from "./session-history-sync.ts";
import { PendingInputs } from "./session-inputs.ts";
import { PiBinding } from "./session-pi-binding.ts";
import { type AcquiredPi, acquirePi, launchPi } from "./session-pi-launch.ts";
import { SessionStream } from "./session-stream.ts";
import { type ImageInput, type MessageKind, TurnTracker } from "./session-turns.ts";

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** pi answers its first command in about a second; a generous bound still fails a wedged start. */
const PI_START_TIMEOUT_MS = 45_000;

export type ClosedReason = "closed" | "deleted" | "replaced" | "idle_timeout" | "exited" | "runner_shutdown";

export class Session {
  readonly id: string;
  readonly workspacePath: string;
  readonly createdAt: number;
  provider: string | undefined;
  model: string | undefined;
  piSessionId: string | undefined;
  piSessionFile: string | undefined;
  title: string | undefined;
  state: SessionState = "closed";
  lastActivity = Date.now();
  /** Whether the last start loaded an existing pi session file. */
  resumed = false;

  private process: PiProcess | undefined;
  private startPromise: Promise<void> | undefined;
  private readonly stream: SessionStream;
  private readonly inputs: PendingInputs;
  private readonly turns: TurnTracker;
  private readonly binding: PiBinding;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Persistence of this session's conversation (PROTOCOL.md §1.7-2). */
  private readonly history: ConversationSync | undefined;

  constructor(
    init: SessionInit,
    private readonly deps: SessionDeps,
  ) {
    this.id = init.id;
    this.workspacePath = init.workspacePath;
    this.provider = init.provider;
    this.model = init.model;
    this.piSessionId = init.piSessionId;
    this.piSessionFile = init.piSessionFile;
    this.title = init.title;
    this.createdAt = init.createdAt ?? Date.now();
    const { runner } = deps.config;
    this.stream = new SessionStream({ sessionId: this.id, runnerId: deps.runnerId, runner, sink: deps.sink });
    this.inputs = new PendingInputs((requestId) =>
      this.emit("agent.input_resolved", { request_id: requestId, reason: "timeout" }),
    );
    this.history = deps.history && liveConversationSync(this, deps.history, deps.index, (m) => this.log(m));
    this.turns = new TurnTracker({
      runner,
      history: this.history,
      checkpoint: this.history && new TurnCheckpoint(() => this.binding.translator, this.history),
      session: this,
      host: {
        translator: () => this.binding.translator,
        lastOutputAt: () => this.process?.lastOutputAt ?? Date.now(),
        starting: () => this.startPromise,
        requestAbort: () => this.request({ type: "abort" }, DEFAULT_REQUEST_TIMEOUT_MS),
        killProcess: async () => {
          const process = this.process;
          if (!process) return false;
          this.detach();
          await process.kill();
          return true;
        },
        updateIdleTimer: () => this.updateIdleTimer(),
        cancelIdleTimer: () => clearTimeout(this.idleTimer),
        log: (message) => this.log(message),
      },
    });
    this.binding = new PiBinding({
      session: this,
      turns: this.turns,
      inputs: this.inputs,
      history: this.history,
      agentDir: deps.agentDir,
      bound: () => this.updateIdleTimer(),
      log: (message) => this.log(message),
    });
  }

  /** Identifies this event stream; new each time the runner creates the session object. */
  get epoch(): string {
    return this.stream.epoch;
  }

  get seq(): number {
    return this.stream.seq;
  }

  get subscribed(): boolean {
    return this.stream.subscribed;
  }

  get isRunning(): boolean {
    return this.process !== undefined;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get phase(): AgentPhase | undefined {
    return this.binding.translator?.phase;
  }

  get pendingInputs(): InputRequest[] {
    return this.inputs.list();
  }

  /** client_id of the user message at `idx`, when this runner saw it. */
  clientIdAt(idx: number): string | undefined {
    return this.binding.translator?.clientIdAt(idx);
  }

  // ---- event stream ----

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.stream.emit(event, payload);
  }

  subscribe(afterSeq: number | undefined): SubscribeResult {
    const result = this.stream.subscribe(afterSeq, this.isRunning);
    this.updateIdleTimer();
    return result;
  }

  unsubscribe(): void {
    this.stream.unsubscribe();
    this.updateIdleTimer();
  }

  // ---- process lifecycle ----

  /**
   * Starts pi (resuming the pi session file when it exists; a new pi session takes a warm spare
   * when the pool has one) and waits until it answered its first command. The state is `starting`
   * synchronously, so guards see it before the first await.
   */
  start(): Promise<void> {
    if (this.startPromise) return this.startPromise;
    if (this.process) return Promise.resolve();
    this.deps.reserveProcess();
    const first = acquirePi(this.deps, this, this.processHandlers());
    this.process = first.process;
    this.binding.reset();
    this.state = "starting";
    this.startPromise = (async () => {
      try {
        await this.bindStarted(first).catch(async (error) => {
          if (!first.pooled) throw error;
          // A spare that fails is never the user's problem: a cold start says whether pi can start.
          this.deps.log(`[${this.id}] a warm pi failed (${(error as Error).message}); starting a new one`);
          first.process.setHandlers({ onEvent: () => undefined, onExit: () => undefined });
          void first.process.kill();
          const cold = launchPi(this.deps, this, this.processHandlers());
          this.process = cold.process;
          await this.bindStarted({ ...cold, pooled: false });
        });
      } catch (error) {
        // Half-started: make sure no process is left behind, then report why.
        const process = this.process;
        this.process = undefined;
        this.state = "closed";
        await process?.kill();
        throw error instanceof ProtocolError
          ? error
          : new ProtocolError("harness_error", `pi did not start: ${(error as Error).message}`);
      } finally {
        this.startPromise = undefined;
      }
      // The next new session of this workspace finds a spare; made after this start, never in its way.
      const pool = this.deps.pool;
      if (pool) setImmediate(() => pool.refill(this.workspacePath));
    })();
    return this.startPromise;
  }

  /** Waits for the started process's state and binds it; a spare first takes the session's model. */
  private async bindStarted(launch: AcquiredPi): Promise<void> {
    if (launch.pooled && this.provider && this.model) {
      const answer = await launch.process.request(
        { type: "set_model", provider: this.provider, modelId: this.model },
        PI_START_TIMEOUT_MS,
      );
      if (!answer.success) throw new ProtocolError("harness_error", answer.error ?? "set_model failed");
    }
    const state = await this.requestData({ type: "get_state" }, PI_START_TIMEOUT_MS);
    await this.binding.bind(state, launch.resumeFile !== undefined);
  }

  /** Gives the running process to another session (re-binding, §1.7-6); this stream ends as `replaced`. */
  handOver(nextSessionId: string): PiProcess {
    const process = this.process;
    if (!process) throw new ProtocolError("session_not_running", "session is not running");
    this.detach();
    this.state = "closed";
    this.emit("session.closed", { reason: "replaced", next_session_id: nextSessionId });
    // Only rows a failed write left behind can be queued here (re-binding happens while idle).
    void this.history?.flush();
    return process;
  }

  /** Takes over a running pi process that pi has just put on this session's new pi session. */
  async adopt(process: PiProcess, piState: unknown, lineage?: Lineage): Promise<void> {
    this.process = process;
    process.setHandlers(this.processHandlers());
    this.state = "starting";
    try {
      await this.binding.bind(piState, false, lineage);
    } catch (error) {
      this.process = undefined;
      this.state = "closed";
      await process.kill();
      throw error;
    }
  }

  /**
   * Stops pi gracefully (within `graceMs` if given) and ends the stream with
   * `session.closed{reason}` (naming the session that takes over, if one does).
   */
  async close(reason: ClosedReason, graceMs?: number, nextSessionId?: string): Promise<void> {
    const process = this.process;
    if (!process) {
      if (this.startPromise) await this.startPromise.catch(() => undefined);
      if (!this.process) return;
      return this.close(reason, graceMs, nextSessionId);
    }
    this.state = "stopping";
    this.detach();
    await process.close(graceMs);
    if (this.turns.open) await this.turns.finish();
    await this.history?.flush();
    this.state = "closed";
    this.emit("session.closed", { reason, ...(nextSessionId ? { next_session_id: nextSessionId } : {}) });
  }

  /** The session is being deleted: its conversation must not be written again. */
  discardHistory(): void {
    this.history?.discard();
  }

  /** Restarts pi on the same pi session file; subscribers and stream are kept. */
  async restart(): Promise<void> {
    if (this.startPromise) await this.startPromise.catch(() => undefined);
    const process = this.process;
    if (process) {
      this.state = "stopping";
      this.detach();
      await process.close();
      this.state = "closed";
    }
    await this.start();
  }

  private processHandlers() {
    return {
      onEvent: (event: PiEvent) => this.binding.handle(event),
      onExit: (exit: PiExit) => this.processExited(exit),
    };
  }

  /** Drops the process from this session without emitting anything; its exit is then expected. */
  private detach(): void {
    const process = this.process;
    this.process = undefined;
    this.turns.stopTimers();
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.inputs.clear();
    // Events of the old binding must not reach this session any more.
    process?.setHandlers({ onEvent: () => undefined, onExit: () => undefined });
  }

  /** The conversation from history (with rows not yet written); undefined when history cannot say. */
  historyMessages(limit: number | undefined): Promise<StoredMessages | undefined> {
    return this.history ? this.history.read(limit) : Promise.resolve(undefined);
  }

  private processExited(exit: PiExit): void {
    if (!this.process) return;
    this.detach();
    if (this.state === "starting") {
      // start() reports the failure through its rejected promise.
      this.state = "closed";
      return;
    }
    this.state = "closed";
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const tail = exit.stderrTail.trim().split("\n").slice(-5).join("\n");
    this.emit("agent.error", {
      error: `the agent process exited unexpectedly (${how})${tail ? `: ${tail}` : ""}`,
      recoverable: false,
    });
    const closed = () =>
      this.emit("session.closed", {
        reason: "exited",
        ...(exit.code === null ? {} : { exit_code: exit.code }),
      });
    // What the dead turn produced is persisted before its agent.idle and the end of the stream,
    // the answer pi was streaming included, as far as it got.
    this.binding.translator?.interruptOpenMessage();
    this.turns.endAfterExit(closed);
  }

  saveIndex(): void {
    this.deps.index.upsert({
      session_id: this.id,
      pi_session_id: this.piSessionId ?? null,
      pi_session_file: this.piSessionFile ?? null,
      workspace_path: this.workspacePath,
      provider: this.provider ?? null,
      model: this.model ?? null,
      title: this.title ?? null,
      created_at: this.createdAt,
      last_activity: this.lastActivity,
    });
  }

  // ---- pi requests ----

  /** Sends a command to pi; resolves with `data`, throws `harness_error` with pi's message on failure. */
  async requestData(command: PiCommand, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<unknown> {
    const response = await this.request(command, timeoutMs);
    if (!response.success)
      throw new ProtocolError("harness_error", response.error ?? `pi refused ${command.type}`);
    return response.data;
  }

  private request(command: PiCommand, timeoutMs: number): Promise<PiResponse> {
    const process = this.process;
    if (!process) return Promise.reject(new ProtocolError("session_not_running", "session is not running"));
    return process.request(command, timeoutMs);
  }

  /** Writes a command pi does not answer. */
  notify(command: PiCommand): void {
    if (!this.process) throw new ProtocolError("session_not_running", "session is not running");
    this.process.notify(command);
  }

  // ---- turns ----

  /** prompt / steer / follow_up (§1.2); see TurnTracker.send. */
  sendMessage(kind: MessageKind, message: string, images: ImageInput[] | undefined, clientId?: string) {
    return this.turns.send(kind, message, images, clientId);
  }

  /** abort (§1.7-4): resolves after the turn's agent.idle; pi is killed if it does not end the turn in time. */
  async abort(): Promise<{ was_running: boolean }> {
    if (this.state === "compacting") {
      await this.requestData({ type: "abort" });
      return { was_running: true };
    }
    return { was_running: await this.turns.abort() };
  }

  // ---- other state ----

  /** A rename from outside the session (REST, history channel): title, index and subscribers. */
  rename(title: string): void {
    this.title = title;
    this.saveIndex();
    if (this.isRunning) this.emit("session.title_changed", { title });
  }

  setAutoRetry(enabled: boolean): void {
    this.turns.autoRetry = enabled;
  }

  /** Answers an extension dialog; false when no such request is pending. */
  resolveInput(
    requestId: string,
    answer: { value?: string; confirmed?: boolean; cancelled?: boolean },
  ): boolean {
    if (!this.inputs.remove(requestId)) return false;
    this.notify({ type: "extension_ui_response", id: requestId, ...answer });
    this.emit("agent.input_resolved", {
      request_id: requestId,
      reason: answer.cancelled ? "cancelled" : "answered",
    });
    return true;
  }

  /** Runs a manual compaction (state `compacting` until pi answers). */
  async compact(instructions: string | undefined, timeoutMs: number): Promise<unknown> {
    this.state = "compacting";
    try {
      return await this.requestData(
        { type: "compact", ...(instructions === undefined ? {} : { customInstructions: instructions }) },
        timeoutMs,
      );
    } finally {
      if (this.state === "compacting") this.state = "idle";
      this.updateIdleTimer();
    }
  }

  /** Idle processes without a subscriber are stopped after runner.idle_timeout_s (§1.6). */
  private updateIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.subscribed || this.state !== "idle" || !this.process) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.subscribed && this.state === "idle") {
        this.close("idle_timeout").catch((error) => this.log(`idle close: ${(error as Error).message}`));
      }
    }, this.deps.config.runner.idle_timeout_s * 1000);
  }

  /** Diagnostics, prefixed with the session id. */
  private log(message: string): void {
    this.deps.log(`[${this.id}] ${message}`);
  }
}
