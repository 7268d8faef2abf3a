/**
 * One Oqto session bound to one pi session: its pi process, event stream (seq, epoch, replay),
 * state machine and turn rules (PROTOCOL.md §1.6, §1.7).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Config } from "../config/schema.ts";
import type { HistoryStore } from "../history/history-store.ts";
import type { CommandOf } from "../protocol/commands.ts";
import { type AgentPhase, ProtocolError, type SessionState } from "../protocol/common.ts";
import { type EventName, type EventPayload, encodeEventLine } from "../protocol/events.ts";
import type { InputRequest, Message } from "../protocol/message.ts";
import type { SubscribeResult } from "../protocol/runner.ts";
import { countConversationMessages, mapPiConversation } from "./harness/pi/message-mapper.ts";
import { type PiExit, PiProcess } from "./harness/pi/pi-process.ts";
import {
  type PiCommand,
  type PiEvent,
  type PiImage,
  PiMessagesData,
  type PiResponse,
  PiState,
} from "./harness/pi/pi-schemas.ts";
import { buildPiSpawn } from "./harness/pi/pi-spawn.ts";
import { PiTranslator } from "./harness/pi/translator.ts";
import { ConversationSync, type Lineage, type StoredMessages } from "./history/conversation-sync.ts";
import { TurnCheckpoint } from "./history/turn-checkpoint.ts";
import { readSettings, SETTINGS_FILE } from "./models-files.ts";
import type { ResolvedPi } from "./pi-install.ts";
import { ReplayBuffer } from "./replay-buffer.ts";
import type { AgentWrapper } from "./sandbox/wrap.ts";
import { ClientIdDedupe } from "./session-dedupe.ts";
import { readPiSessionMessages } from "./session-files.ts";
import type { SessionIndex } from "./session-index.ts";
import { PendingInputs } from "./session-inputs.ts";
import { TurnWatchdog } from "./session-watchdog.ts";

/** How long an errored run may wait for pi's auto-retry or compaction re-run before the turn ends (§1.7-3). */
export const RERUN_HOLD_MS = 2_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const RetrySetting = z.looseObject({ retry: z.looseObject({ enabled: z.boolean().optional() }).optional() });
/** pi answers its first command in about a second; a generous bound still fails a wedged start. */
const PI_START_TIMEOUT_MS = 45_000;

export type ClosedReason = "closed" | "deleted" | "replaced" | "idle_timeout" | "exited" | "runner_shutdown";
export type MessageKind = "prompt" | "steer" | "follow_up";
type ImageInput = NonNullable<CommandOf<"prompt">["images"]>[number];

export interface SessionDeps {
  runnerId: string;
  config: Config;
  pi: ResolvedPi;
  home: string;
  agentDir: string;
  index: SessionIndex;
  /** Receives the broadcast lines of subscribed sessions. */
  sink(sessionId: string, line: string): void;
  log(message: string): void;
  /** Throws `busy` when no further pi process may start (runner.max_sessions). */
  reserveProcess(): void;
  /** Wraps pi's argv in the workspace's sandbox; throws `sandbox_error` rather than start it unsandboxed. */
  wrapAgent?: AgentWrapper;
  /** Where conversations are persisted; without it pi's session file is the only record. */
  history?: HistoryStore | undefined;
}

export interface SessionInit {
  id: string;
  workspacePath: string;
  provider?: string | undefined;
  model?: string | undefined;
  piSessionId?: string | undefined;
  piSessionFile?: string | undefined;
  title?: string | undefined;
  createdAt?: number | undefined;
}

export class Session {
  readonly id: string;
  /** Identifies this event stream; new each time the runner creates the session object. */
  readonly epoch = crypto.randomUUID();
  readonly workspacePath: string;
  readonly createdAt: number;
  provider: string | undefined;
  model: string | undefined;
  piSessionId: string | undefined;
  piSessionFile: string | undefined;
  title: string | undefined;
  state: SessionState = "closed";
  subscribed = false;
  seq = 0;
  lastActivity = Date.now();
  /** Whether the last start loaded an existing pi session file. */
  resumed = false;

  private process: PiProcess | undefined;
  private translator: PiTranslator | undefined;
  private startPromise: Promise<void> | undefined;
  private readonly replay: ReplayBuffer;
  private readonly dedupe = new ClientIdDedupe();
  private readonly inputs: PendingInputs;
  private readonly watchdog: TurnWatchdog;
  /** A turn runs from an accepted prompt (or an unprompted agent_start) to agent.idle. */
  private turnOpen = false;
  /** pi sent agent_start for the current turn. */
  private runStarted = false;
  private rerunHold: ReturnType<typeof setTimeout> | undefined;
  private compactionRerunPending = false;
  private abortWaiters: Array<() => void> = [];
  private abortKill: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private autoRetryEnabled = true;
  /** Persistence of this session's conversation (PROTOCOL.md §1.7-2). */
  private readonly history: ConversationSync | undefined;
  private readonly checkpoint: TurnCheckpoint | undefined;
  /** Set while the ended turn is being persisted; agent.idle follows. */
  private turnEnding: Promise<void> | undefined;
  /** Counts pi runs, so that a run starting while a turn is persisted keeps the turn open. */
  private runGeneration = 0;

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
    this.replay = new ReplayBuffer(runner.replay_buffer_events, runner.replay_buffer_bytes);
    this.inputs = new PendingInputs((requestId) =>
      this.emit("agent.input_resolved", { request_id: requestId, reason: "timeout" }),
    );
    this.watchdog = new TurnWatchdog({
      startTimeoutMs: runner.start_timeout_s * 1000,
      silenceTimeoutMs: runner.silence_timeout_s * 1000,
      lastOutputAt: () => this.process?.lastOutputAt ?? Date.now(),
      phase: () => this.translator?.phase,
      onTimeout: (reason) => this.watchdogFired(reason),
    });
    if (deps.history) {
      this.history = new ConversationSync({
        store: deps.history,
        facts: () =>
          this.piSessionId === undefined
            ? undefined
            : {
                sessionId: this.id,
                piSessionId: this.piSessionId,
                piSessionFile: this.piSessionFile,
                workspace: this.workspacePath,
                createdAt: this.createdAt,
                title: this.title,
                model: this.model,
                provider: this.provider,
              },
        onDirty: (dirty) => deps.index.setHistoryDirty(this.id, dirty),
        log: (message) => deps.log(`[${this.id}] ${message}`),
      });
      this.checkpoint = new TurnCheckpoint(() => this.translator, this.history);
    }
  }

  get isRunning(): boolean {
    return this.process !== undefined;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get phase(): AgentPhase | undefined {
    return this.translator?.phase;
  }

  get pendingInputs(): InputRequest[] {
    return this.inputs.list();
  }

  /** client_id of the user message at `idx`, when this runner saw it. */
  clientIdAt(idx: number): string | undefined {
    return this.translator?.clientIdAt(idx);
  }

  // ---- event stream ----

  /** Broadcasts one event: next seq, encoded once, kept for replay, delivered if subscribed. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.seq += 1;
    const line = encodeEventLine(
      { session_id: this.id, seq: this.seq, runner_id: this.deps.runnerId, ts: Date.now(), event },
      payload,
    );
    this.replay.push(this.seq, line);
    if (this.subscribed) this.deps.sink(this.id, line);
  }

  subscribe(afterSeq: number | undefined): SubscribeResult {
    this.subscribed = true;
    this.updateIdleTimer();
    const base = { seq: this.seq, epoch: this.epoch, running: this.isRunning };
    if (afterSeq === undefined) return { ...base, events: [], resync_required: false };
    const replay = this.replay.since(afterSeq, this.seq);
    if (replay.resync)
      return { ...base, events: [], resync_required: true, dropped_count: replay.droppedCount };
    return { ...base, events: replay.lines, resync_required: false };
  }

  unsubscribe(): void {
    this.subscribed = false;
    this.updateIdleTimer();
  }

  // ---- process lifecycle ----

  /**
   * Starts pi (resuming the pi session file when it exists) and waits until it answered its first
   * command. The state is `starting` synchronously, so guards see it before the first await.
   */
  start(): Promise<void> {
    if (this.startPromise) return this.startPromise;
    if (this.process) return Promise.resolve();
    this.deps.reserveProcess();
    const resumeFile = this.piSessionFile && existsSync(this.piSessionFile) ? this.piSessionFile : undefined;
    const spec = buildPiSpawn({
      pi: this.deps.pi,
      config: this.deps.config,
      cwd: this.workspacePath,
      home: this.deps.home,
      agentDir: this.deps.agentDir,
      sessionId: this.id,
      ...(resumeFile ? { sessionFile: resumeFile } : {}),
      ...(this.provider ? { provider: this.provider } : {}),
      ...(this.model ? { model: this.model } : {}),
    });
    const launch = this.deps.wrapAgent?.(this.workspacePath, spec.argv, {
      sessionId: this.id,
      ...(resumeFile ? { resumeFile } : {}),
    });
    if (launch) {
      spec.argv = launch.argv;
      spec.env = { ...spec.env, ...launch.env };
    }
    let process: PiProcess;
    try {
      process = PiProcess.start(spec, this.processHandlers(), (m) => this.deps.log(`[${this.id}] ${m}`));
    } catch (error) {
      launch?.release();
      throw error;
    }
    // The sandbox's resources (the LLM bridge) belong to the process, which may move to another session.
    if (launch) void process.exited.finally(launch.release);
    this.process = process;
    this.translator = undefined;
    this.state = "starting";
    this.startPromise = (async () => {
      try {
        const state = await this.requestData({ type: "get_state" }, PI_START_TIMEOUT_MS);
        await this.bindPiState(state, resumeFile !== undefined);
      } catch (error) {
        // Half-started: make sure no process is left behind, then report why.
        this.process = undefined;
        this.state = "closed";
        await process.kill();
        throw error instanceof ProtocolError
          ? error
          : new ProtocolError("harness_error", `pi did not start: ${(error as Error).message}`);
      } finally {
        this.startPromise = undefined;
      }
    })();
    return this.startPromise;
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
      await this.bindPiState(piState, false, lineage);
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
    if (this.turnOpen) await this.finishTurn();
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
      onEvent: (event: PiEvent) => {
        if (this.translator) this.translator.handle(event);
        else this.deps.log(`[${this.id}] pi event ${event.type} before the session was bound`);
      },
      onExit: (exit: PiExit) => this.processExited(exit),
    };
  }

  /** Drops the process from this session without emitting anything; its exit is then expected. */
  private detach(): void {
    const process = this.process;
    this.process = undefined;
    this.watchdog.stop();
    this.checkpoint?.stop();
    clearTimeout(this.rerunHold);
    clearTimeout(this.abortKill);
    clearTimeout(this.idleTimer);
    this.rerunHold = undefined;
    this.abortKill = undefined;
    this.idleTimer = undefined;
    this.inputs.clear();
    // Events of the old binding must not reach this session any more.
    process?.setHandlers({ onEvent: () => undefined, onExit: () => undefined });
  }

  private async bindPiState(data: unknown, resumed: boolean, lineage?: Lineage): Promise<void> {
    const parsed = PiState.safeParse(data);
    if (!parsed.success)
      throw new ProtocolError("harness_error", `unexpected get_state answer: ${parsed.error.message}`);
    const state = parsed.data;
    this.resumed = resumed;
    this.piSessionId = state.sessionId;
    if (state.sessionFile) this.piSessionFile = state.sessionFile;
    if (state.model) {
      this.provider = state.model.provider;
      this.model = state.model.id;
    }
    if (state.sessionName) this.title = state.sessionName;
    const firstIdx = await this.countMessages(state);
    this.autoRetryEnabled = await this.readAutoRetrySetting();
    this.translator = new PiTranslator(this.id, firstIdx, this.translatorHooks());
    this.saveIndex();
    await this.history?.bind({ messageCount: firstIdx, loadMessages: () => this.piConversation(), lineage });
    this.state = this.turnOpen ? "streaming" : "idle";
    if (this.seq === 0) {
      this.emit("session.created", {
        resumed,
        harness: "pi",
        workspace_path: this.workspacePath,
        ...(this.piSessionId ? { pi_session_id: this.piSessionId } : {}),
      });
    }
    this.updateIdleTimer();
  }

  /** Messages already in the pi session, so live idx numbering continues after them. */
  private async countMessages(state: PiState): Promise<number> {
    if (!state.messageCount) return 0;
    const fromFile = this.piSessionFile ? await readPiSessionMessages(this.piSessionFile) : undefined;
    if (fromFile) return countConversationMessages(fromFile);
    const data = PiMessagesData.safeParse(await this.requestData({ type: "get_messages" }));
    if (!data.success)
      throw new ProtocolError("harness_error", `unexpected get_messages answer: ${data.error.message}`);
    return countConversationMessages(data.data.messages);
  }

  /** The whole pi conversation as canonical messages (history backfill reads it). */
  private async piConversation(): Promise<Message[]> {
    let messages = this.piSessionFile ? await readPiSessionMessages(this.piSessionFile) : undefined;
    if (!messages && this.process) {
      const data = PiMessagesData.safeParse(await this.requestData({ type: "get_messages" }));
      if (data.success) messages = data.data.messages;
    }
    return mapPiConversation(this.id, messages ?? [], (idx) => this.clientIdAt(idx));
  }

  /** The conversation from history (with rows not yet written); undefined when history cannot say. */
  historyMessages(limit: number | undefined): Promise<StoredMessages | undefined> {
    return this.history ? this.history.read(limit) : Promise.resolve(undefined);
  }

  /** pi's `retry.enabled` (default true): project settings override the agent dir's. */
  private async readAutoRetrySetting(): Promise<boolean> {
    const read = async (file: string) => {
      try {
        return RetrySetting.safeParse(await readSettings(file)).data?.retry?.enabled;
      } catch {
        // An unreadable settings file is pi's problem to report; assume its default.
        return undefined;
      }
    };
    return (
      (await read(join(this.workspacePath, ".pi", SETTINGS_FILE))) ??
      (await read(join(this.deps.agentDir, SETTINGS_FILE))) ??
      true
    );
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
    this.translator?.interruptOpenMessage();
    if (!this.turnOpen) {
      closed();
      return;
    }
    void this.finishTurn()
      .catch((error) => this.deps.log(`[${this.id}] ending the turn failed: ${(error as Error).message}`))
      .then(closed);
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

  /**
   * prompt / steer / follow_up (§1.2). A stopped session is resumed first; while idle or starting
   * steer and follow_up are sent as a prompt. Duplicate `client_id`s succeed without being resent.
   */
  async sendMessage(kind: MessageKind, message: string, images: ImageInput[] | undefined, clientId?: string) {
    if (clientId && this.dedupe.has(clientId)) return;
    if (this.turnEnding) throw new ProtocolError("session_busy", "the last turn is still being saved");
    if (this.state === "closed") void this.start().catch(() => undefined);
    const asPrompt = this.state === "starting" || this.state === "idle";
    if (!asPrompt && (kind === "prompt" || this.state !== "streaming")) {
      throw new ProtocolError("session_busy", `cannot ${kind} while the session is ${this.state}`);
    }
    if (asPrompt) {
      if (this.turnOpen) throw new ProtocolError("session_busy", "a turn is already running");
      // Reserve the turn before the first await, so a concurrent prompt is refused.
      this.turnOpen = true;
    }
    if (clientId) this.dedupe.add(clientId);
    const piImages: PiImage[] | undefined = images?.map((i) => ({
      type: "image",
      data: i.data,
      mimeType: i.media_type,
    }));
    const withImages = piImages ? { images: piImages } : {};
    try {
      if (asPrompt && this.startPromise) await this.startPromise;
      // Registered before sending: the user message_end can arrive before the response is handled.
      if (clientId) this.translator?.expectUserMessage(message, clientId);
      if (asPrompt) {
        if (this.state === "idle") this.state = "streaming";
        this.watchdog.awaitStart();
        await this.requestData({ type: "prompt", message, ...withImages }, DEFAULT_REQUEST_TIMEOUT_MS);
      } else {
        await this.requestData({ type: kind, message, ...withImages }, DEFAULT_REQUEST_TIMEOUT_MS);
      }
    } catch (error) {
      if (clientId) this.dedupe.delete(clientId);
      if (asPrompt && this.turnOpen && !this.runStarted && this.state !== "aborting") {
        // pi refused the prompt and no run started: there is no turn to end.
        this.turnOpen = false;
        this.watchdog.stop();
        if (this.state === "streaming") this.state = "idle";
        this.updateIdleTimer();
      }
      throw error;
    }
    this.lastActivity = Date.now();
  }

  /** abort (§1.7-4): resolves after the turn's agent.idle; pi is killed if it does not end the turn in time. */
  async abort(): Promise<{ was_running: boolean }> {
    if (this.state === "compacting") {
      await this.requestData({ type: "abort" });
      return { was_running: true };
    }
    if (!this.turnOpen) return { was_running: false };
    const ended = new Promise<void>((resolve) => this.abortWaiters.push(resolve));
    this.beginAbort();
    await ended;
    return { was_running: true };
  }

  private beginAbort(): void {
    this.state = "aborting";
    this.watchdog.stop();
    clearTimeout(this.rerunHold);
    if (this.abortKill === undefined) {
      const timeoutS = this.deps.config.runner.abort_timeout_s;
      this.abortKill = setTimeout(
        () =>
          void this.killTurn(
            `the agent did not stop within ${timeoutS} s of the abort; its process was stopped`,
          ),
        timeoutS * 1000,
      );
    }
    this.request({ type: "abort" }, DEFAULT_REQUEST_TIMEOUT_MS).catch((error) =>
      this.deps.log(`[${this.id}] abort: ${(error as Error).message}`),
    );
  }

  private watchdogFired(reason: string): void {
    if (!this.turnOpen) return;
    this.emit("agent.error", {
      error: reason,
      recoverable: true,
      code: "watchdog",
      ...(this.phase ? { phase: this.phase } : {}),
    });
    this.beginAbort();
  }

  /** Abort fallback: kill pi, end the turn with what was seen; the next prompt resumes the session. */
  private async killTurn(reason: string): Promise<void> {
    this.abortKill = undefined;
    const process = this.process;
    if (!process || !this.turnOpen) return;
    this.detach();
    await process.kill();
    this.emit("agent.error", { error: reason, recoverable: true });
    this.state = "closed";
    await this.finishTurn();
  }

  /**
   * The turn is over: its messages are persisted (§1.7-2), then agent.idle (with the history version,
   * or after `agent.error{history_unavailable}`), then the abort responses. Concurrent calls share one end.
   */
  private finishTurn(): Promise<void> {
    if (!this.turnOpen) return Promise.resolve();
    this.turnEnding ??= this.endTurn().finally(() => {
      this.turnEnding = undefined;
    });
    return this.turnEnding;
  }

  private async endTurn(): Promise<void> {
    const run = this.runGeneration;
    this.watchdog.stop();
    this.checkpoint?.stop();
    clearTimeout(this.rerunHold);
    this.rerunHold = undefined;
    clearTimeout(this.abortKill);
    this.abortKill = undefined;
    const written = this.history ? await this.history.persistTurn() : undefined;
    // pi started another run meanwhile (a late re-run): the turn goes on and ends with that run.
    if (run !== this.runGeneration && this.process) return;
    this.turnOpen = false;
    this.runStarted = false;
    this.compactionRerunPending = false;
    this.translator?.endTurn();
    if (this.state === "streaming" || this.state === "aborting") this.state = "idle";
    if (written && !written.ok) {
      this.emit("agent.error", {
        error: `history is unavailable; the turn is kept and saved later: ${written.error}`,
        recoverable: true,
        code: "history_unavailable",
      });
    }
    this.emit(
      "agent.idle",
      written?.ok && written.version
        ? {
            message_version: {
              version: written.version.version,
              message_count: written.version.messageCount,
            },
          }
        : {},
    );
    this.lastActivity = Date.now();
    this.saveIndex();
    const waiters = this.abortWaiters;
    this.abortWaiters = [];
    for (const resolve of waiters) resolve();
    this.updateIdleTimer();
  }

  private translatorHooks() {
    return {
      emit: <E extends EventName>(event: E, payload: EventPayload<E>) => {
        this.emit(event, payload);
        if (event !== "stream.message_end") return;
        const { message } = payload as EventPayload<"stream.message_end">;
        this.history?.record(message);
        // The prompt is in history at once, not only at the turn's end: a runner killed mid-turn keeps it.
        if (message.role === "user") void this.history?.flush();
        if (this.title === undefined) this.titleFromFirstMessage(message);
      },
      agentStarted: () => {
        clearTimeout(this.rerunHold);
        this.rerunHold = undefined;
        this.compactionRerunPending = false;
        this.runStarted = true;
        this.runGeneration += 1;
        this.checkpoint?.start();
        if (!this.turnOpen) {
          // A run pi started by itself (e.g. after a threshold compaction).
          this.turnOpen = true;
          clearTimeout(this.idleTimer);
        }
        if (this.state === "idle") this.state = "streaming";
        if (this.state !== "aborting") this.watchdog.running();
      },
      agentEnded: (lastStopReason: string | undefined) => {
        this.watchdog.stop();
        const mayRerun =
          this.state !== "aborting" &&
          ((lastStopReason === "error" && this.autoRetryEnabled) || this.compactionRerunPending);
        if (!mayRerun) {
          this.finishTurn();
          return;
        }
        clearTimeout(this.rerunHold);
        this.rerunHold = setTimeout(() => this.finishTurn(), RERUN_HOLD_MS);
      },
      autoRetryStarted: () => {
        clearTimeout(this.rerunHold);
        this.rerunHold = undefined;
      },
      compactionEnded: (willRetry: boolean) => {
        this.compactionRerunPending = willRetry;
      },
      titleChanged: (title: string) => {
        this.title = title;
        this.saveIndex();
        this.history?.touch();
      },
      inputRequested: (request: InputRequest, timeoutMs: number | undefined) =>
        this.inputs.add(request, timeoutMs),
      log: (message: string) => this.deps.log(`[${this.id}] ${message}`),
    };
  }

  // ---- other state ----

  /** Until pi names the session, its title is the first user message (80 chars), as history does. */
  private titleFromFirstMessage(message: Message): void {
    if (message.role !== "user") return;
    const text = message.parts
      .flatMap((part) => (part.type === "text" ? [part.text] : []))
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    if (!text) return;
    this.title = text.length > 80 ? `${text.slice(0, 79)}…` : text;
    this.saveIndex();
    this.history?.touch();
    this.emit("session.title_changed", { title: this.title });
  }

  /** A rename from outside the session (REST, history channel): title, index and subscribers. */
  rename(title: string): void {
    this.title = title;
    this.saveIndex();
    if (this.isRunning) this.emit("session.title_changed", { title });
  }

  setAutoRetry(enabled: boolean): void {
    this.autoRetryEnabled = enabled;
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
        this.close("idle_timeout").catch((error) =>
          this.deps.log(`[${this.id}] idle close: ${(error as Error).message}`),
        );
      }
    }, this.deps.config.runner.idle_timeout_s * 1000);
  }
}
