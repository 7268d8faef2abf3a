/**
 * The runner's sessions: the entry point the runner socket server calls for every canonical
 * command, subscription and model write (PROTOCOL.md §1, §3.4).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { HistoryStore } from "../history/history-store.ts";
import { Command, type CommandOf } from "../protocol/commands.ts";
import {
  type AgentPhase,
  describeZodError,
  ERROR_CODES,
  type ErrorCode,
  ProtocolError,
  type SessionState,
  SYSTEM_SESSION_ID,
} from "../protocol/common.ts";
import type { ResponseEvent } from "../protocol/events.ts";
import type { Message } from "../protocol/message.ts";
import type { RunningSession, SubscribeResult } from "../protocol/runner.ts";
import { mapPiConversation } from "./harness/pi/message-mapper.ts";
import { PiCancellableData, PiForkData } from "./harness/pi/pi-schemas.ts";
import { ConversationSync, type Lineage } from "./history/conversation-sync.ts";
import { readModels, writeModelsFiles } from "./models-files.ts";
import { type ResolvedPi, resolvePi } from "./pi-install.ts";
import type { AgentWrapper } from "./sandbox/wrap.ts";
import { Session, type SessionDeps } from "./session.ts";
import { GET_STATE_TIMEOUT_MS, getMessages, guard, piData, runSessionCommand } from "./session-commands.ts";
import { findPiSessionFile, piSessionIdFromFile, readPiSessionMessages } from "./session-files.ts";
import { SessionIndex, type SessionRecord } from "./session-index.ts";
import { resolveWorkspaceDir } from "./workspace-dir.ts";

export interface SessionManagerOptions {
  runnerId: string;
  config: Config;
  /** Runner state dir; `runner.db` (the session index) lives here. */
  stateDir: string;
  /** Absolute; `session.create` cwd must be a directory inside it. */
  workspaceRoot: string;
  /** pi agent dir (models.json, settings.json). */
  agentDir: string;
  /** HOME for pi. */
  home: string;
  /** Receives the event lines of subscribed sessions. */
  onEvent: (sessionId: string, line: string) => void;
  /** Diagnostics (default: stderr). */
  log?: (message: string) => void;
  /** pi location; resolved from the config on first use when omitted. */
  pi?: ResolvedPi;
  /** Wraps every pi process in its workspace's sandbox (the runner passes the bwrap wrapper). */
  wrapAgent?: AgentWrapper;
  /** Conversation history (HSTRY.md §5); without it pi's session files are the only record. */
  history?: HistoryStore;
}

/** Live state of a session with a pi process, for session lists. */
export interface LiveState {
  state: SessionState;
  phase?: AgentPhase;
  seq: number;
}

/** A session the runner knows, and the pi session it is bound to (if it started once). */
export interface KnownSession {
  session_id: string;
  pi_session_id?: string;
}

/** A running session as `runner.status` reports it (the schema lives in the protocol). */
export type SessionStatus = RunningSession;

export interface SessionListing {
  session_id: string;
  state: SessionState;
  phase?: AgentPhase;
  workspace_path: string;
  provider?: string;
  model?: string;
  pi_session_id?: string;
  title?: string;
  last_activity: number;
  subscriber_count: number;
  seq: number;
}

type Outcome = { success: true; data: unknown } | { success: false; error: string; error_code: ErrorCode };

const ERROR_CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);
/** Stopped sessions kept in memory (their streams can continue); older ones are reloaded from the index. */
const STOPPED_SESSIONS_PER_SLOT = 2;

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly index: SessionIndex;
  private readonly log: (message: string) => void;
  private pi: ResolvedPi | undefined;
  private shuttingDown = false;
  /** Completing history for sessions an earlier runner could not save (runner start, §5.3). */
  private readonly recovery: Promise<void>;

  constructor(private readonly opts: SessionManagerOptions) {
    this.index = new SessionIndex(opts.stateDir);
    this.log = opts.log ?? ((message) => process.stderr.write(`[sessions] ${message}\n`));
    this.pi = opts.pi;
    this.recovery = this.recoverHistory();
  }

  /** Handles any canonical command and resolves with its single response. Never rejects. */
  async command(command: Command): Promise<ResponseEvent> {
    const parsed = Command.safeParse(command);
    if (!parsed.success) {
      return this.respond(command, {
        success: false,
        error: `invalid command: ${describeZodError(parsed.error)}`,
        error_code: "invalid_request",
      });
    }
    try {
      return this.respond(parsed.data, { success: true, data: await this.dispatch(parsed.data) });
    } catch (error) {
      return this.respond(
        parsed.data,
        failure(error, (message) => this.log(message)),
      );
    }
  }

  /** Marks the session subscribed and returns the events after `afterSeq` (or a resync). */
  subscribe(sessionId: string, afterSeq?: number): SubscribeResult {
    const session = this.sessions.get(sessionId) ?? this.loadFromIndex(sessionId);
    if (!session) throw new ProtocolError("session_not_found", `unknown session ${sessionId}`);
    return session.subscribe(afterSeq);
  }

  unsubscribe(sessionId: string): void {
    this.sessions.get(sessionId)?.unsubscribe();
  }

  unsubscribeAll(): void {
    for (const session of this.sessions.values()) session.unsubscribe();
  }

  /** Sessions with a pi process. */
  status(): { sessions: SessionStatus[] } {
    const sessions: SessionStatus[] = [];
    for (const s of this.sessions.values()) {
      if (!s.isRunning) continue;
      sessions.push({
        session_id: s.id,
        state: s.state,
        ...(s.phase ? { phase: s.phase } : {}),
        workspace_path: s.workspacePath,
        ...(s.piSessionId ? { pi_session_id: s.piSessionId } : {}),
        ...(s.pid === undefined ? {} : { pid: s.pid }),
        seq: s.seq,
        epoch: s.epoch,
      });
    }
    return { sessions };
  }

  /** `models.write`: pi's models.json (0600) and settings.json keys. */
  writeModels(modelsJson: Record<string, unknown>, settings?: Record<string, unknown>): Promise<void> {
    return writeModelsFiles(this.opts.agentDir, modelsJson, settings);
  }

  /** Ends every session with `session.closed{runner_shutdown}` and stops its pi within `graceS`. */
  async shutdown(graceS?: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    await this.recovery;
    const graceMs = graceS === undefined ? undefined : graceS * 1000;
    await Promise.all(
      [...this.sessions.values()].map((s) =>
        s
          .close("runner_shutdown", graceMs)
          .catch((error) => this.log(`[${s.id}] shutdown: ${(error as Error).message}`)),
      ),
    );
    this.index.close();
  }

  // ---- dispatch ----

  private async dispatch(command: Command): Promise<unknown> {
    if (this.shuttingDown) throw new ProtocolError("shutting_down", "the runner is shutting down");
    if (command.session_id === SYSTEM_SESSION_ID) return this.systemCommand(command);
    switch (command.cmd) {
      case "session.create":
        return this.create(command);
      case "session.subscribe":
        return this.subscribeCommand(command);
      case "session.unsubscribe":
        this.requireSession(command.session_id).unsubscribe();
        return undefined;
      case "session.close":
        await this.requireSession(command.session_id).close("closed");
        return undefined;
      case "session.delete":
        await this.deleteSession(command.session_id);
        return undefined;
      case "session.new":
        return this.newSession(command);
      case "session.switch":
        return this.switchSession(command);
      case "fork":
        return this.fork(command);
      case "list_sessions":
        return this.listSessions();
      case "delegate":
      case "delegate.cancel":
        throw new ProtocolError("not_supported", `${command.cmd} is not supported`);
      default:
        return runSessionCommand(this.requireSession(command.session_id), command, {
          agentDir: this.opts.agentDir,
        });
    }
  }

  private async systemCommand(command: Command): Promise<unknown> {
    switch (command.cmd) {
      case "list_sessions":
        return this.listSessions();
      case "get_models":
        return readModels(this.opts.agentDir);
      default:
        throw new ProtocolError("invalid_request", `${command.cmd} is not available on ${SYSTEM_SESSION_ID}`);
    }
  }

  private respond(command: Command, outcome: Outcome): ResponseEvent {
    const isSystem = command.session_id === SYSTEM_SESSION_ID;
    const response: ResponseEvent = {
      event: "response",
      session_id: command.session_id,
      runner_id: this.opts.runnerId,
      ts: Date.now(),
      seq: isSystem ? 0 : (this.sessions.get(command.session_id)?.seq ?? 0),
      cmd: command.cmd,
      success: outcome.success,
    };
    if (command.id !== undefined) response.id = command.id;
    if (outcome.success) {
      if (outcome.data !== undefined) response.data = outcome.data;
    } else {
      response.error = outcome.error;
      response.error_code = outcome.error_code;
    }
    return response;
  }

  // ---- sessions ----

  private deps(): SessionDeps {
    if (!this.pi) this.pi = resolvePi(this.opts.config);
    return {
      runnerId: this.opts.runnerId,
      config: this.opts.config,
      pi: this.pi,
      home: this.opts.home,
      agentDir: this.opts.agentDir,
      index: this.index,
      sink: this.opts.onEvent,
      log: this.log,
      history: this.opts.history,
      ...(this.opts.wrapAgent ? { wrapAgent: this.opts.wrapAgent } : {}),
      reserveProcess: () => {
        let running = 0;
        for (const s of this.sessions.values()) if (s.isRunning) running += 1;
        if (running >= this.opts.config.runner.max_sessions) {
          throw new ProtocolError(
            "busy",
            `the runner already runs ${running} sessions (runner.max_sessions)`,
          );
        }
      },
    };
  }

  private newSessionObject(
    record: Omit<SessionRecord, "last_activity" | "created_at"> & { created_at?: number },
  ) {
    this.evictStopped();
    const session = new Session(
      {
        id: record.session_id,
        workspacePath: record.workspace_path,
        provider: record.provider ?? undefined,
        model: record.model ?? undefined,
        piSessionId: record.pi_session_id ?? undefined,
        piSessionFile: record.pi_session_file ?? undefined,
        title: record.title ?? undefined,
        createdAt: record.created_at,
      },
      this.deps(),
    );
    this.sessions.set(session.id, session);
    return session;
  }

  /** A session this runner knows: in memory, or from the index (then stopped, with a new stream). */
  private requireSession(sessionId: string): Session {
    const session = this.sessions.get(sessionId) ?? this.loadFromIndex(sessionId);
    if (!session) throw new ProtocolError("session_not_found", `unknown session ${sessionId}`);
    return session;
  }

  private loadFromIndex(sessionId: string): Session | undefined {
    const record = this.index.get(sessionId);
    return record ? this.newSessionObject(record) : undefined;
  }

  /** Drops the oldest stopped, unsubscribed sessions beyond the in-memory bound. */
  private evictStopped(): void {
    const limit = this.opts.config.runner.max_sessions * STOPPED_SESSIONS_PER_SLOT;
    const stopped = [...this.sessions.values()]
      .filter((s) => !s.isRunning && !s.subscribed && s.state === "closed")
      .sort((a, b) => a.lastActivity - b.lastActivity);
    for (const session of stopped.slice(0, Math.max(0, stopped.length - limit)))
      this.sessions.delete(session.id);
  }

  /** realpath of `cwd`, which must be a directory strictly inside the workspace root. */
  private resolveWorkspace(cwd: string): Promise<string> {
    return resolveWorkspaceDir(this.opts.workspaceRoot, cwd);
  }

  /**
   * Resolves an Oqto or pi session id to its pi session file and, when indexed, its Oqto session.
   */
  private async resolveTarget(id: string): Promise<{ record?: SessionRecord; file: string }> {
    const record = this.index.get(id) ?? this.index.findByPiSessionId(id);
    if (record?.pi_session_file) return { record, file: record.pi_session_file };
    const file = await findPiSessionFile(id, {
      ...(this.opts.config.pi.session_dir ? { flatDir: this.opts.config.pi.session_dir } : {}),
      sessionsRoot: join(this.opts.agentDir, "sessions"),
    });
    if (!file) throw new ProtocolError("not_found", `no pi session found for ${id}`);
    return { file };
  }

  private async create(command: CommandOf<"session.create">): Promise<Record<string, unknown>> {
    const { config } = command;
    const workspacePath = await this.resolveWorkspace(config.cwd);
    const existing = this.sessions.get(command.session_id);
    if (existing?.isRunning) {
      existing.subscribe(undefined);
      await existing.start();
      return this.createdData(existing, { resumed: false, alreadyRunning: true });
    }

    const known = config.continue_session
      ? await this.resolveTarget(config.continue_session)
      : this.indexedFile(command.session_id);
    if (known?.record && known.record.session_id !== command.session_id) {
      if (this.sessions.get(known.record.session_id)?.isRunning) {
        throw new ProtocolError(
          "session_busy",
          `session ${known.record.session_id} is running in another process`,
        );
      }
    }
    const reuse = existing && existing.workspacePath === workspacePath && !config.continue_session;
    const session = reuse
      ? existing
      : this.newSessionObject({
          session_id: command.session_id,
          workspace_path: workspacePath,
          provider: config.provider ?? known?.record?.provider ?? null,
          model: config.model ?? known?.record?.model ?? null,
          pi_session_id: known?.record?.pi_session_id ?? null,
          pi_session_file: known?.file ?? null,
          title: known?.record?.title ?? null,
        });
    if (reuse && config.provider) session.provider = config.provider;
    if (reuse && config.model) session.model = config.model;
    // Subscribed before starting, so that session.created reaches the caller.
    session.subscribe(undefined);
    await session.start();
    return this.createdData(session, { resumed: session.resumed, alreadyRunning: false });
  }

  private indexedFile(sessionId: string): { record: SessionRecord; file: string } | undefined {
    const record = this.index.get(sessionId);
    return record?.pi_session_file ? { record, file: record.pi_session_file } : undefined;
  }

  private createdData(session: Session, flags: { resumed: boolean; alreadyRunning: boolean }) {
    return {
      session_id: session.id,
      workspace_path: session.workspacePath,
      resumed: flags.resumed,
      already_running: flags.alreadyRunning,
      pi_session_id: session.piSessionId,
      seq: session.seq,
      epoch: session.epoch,
    };
  }

  private subscribeCommand(command: CommandOf<"session.subscribe">) {
    const result = this.subscribe(command.session_id, command.after_seq);
    if (result.events.length > 0) {
      // Replay follows the response (§1.2): the caller writes the response when this resolves.
      setTimeout(() => {
        for (const line of result.events) this.opts.onEvent(command.session_id, line);
      }, 0);
    }
    return {
      seq: result.seq,
      epoch: result.epoch,
      running: result.running,
      replayed: result.events.length,
      resync_required: result.resync_required,
    };
  }

  /**
   * Closes the session, deletes its conversation from history and pi's session file, and forgets it.
   * When history cannot delete, the file and the index entry stay, so the call can be repeated.
   */
  async deleteSession(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    const record = this.index.get(sessionId);
    if (!session && !record) throw new ProtocolError("session_not_found", `unknown session ${sessionId}`);
    const file = session?.piSessionFile ?? record?.pi_session_file ?? undefined;
    const piSessionId = session?.piSessionId ?? record?.pi_session_id ?? undefined;
    if (session?.isRunning) await session.close("deleted");
    else if (session && session.seq > 0) session.emit("session.closed", { reason: "deleted" });
    // Closed, so nothing writes any more; after the delete nothing may re-create the conversation.
    if (this.opts.history && piSessionId) await this.opts.history.deleteConversation(piSessionId);
    session?.discardHistory();
    if (file) await rm(file, { force: true });
    this.index.delete(sessionId);
    this.sessions.delete(sessionId);
  }

  // ---- queries for the history methods ----

  /** A session this runner knows (in memory or in its index), without loading it. */
  knownSession(sessionId: string): KnownSession | undefined {
    const session = this.sessions.get(sessionId);
    if (session) {
      return {
        session_id: session.id,
        ...(session.piSessionId ? { pi_session_id: session.piSessionId } : {}),
      };
    }
    const record = this.index.get(sessionId);
    if (!record) return undefined;
    return {
      session_id: record.session_id,
      ...(record.pi_session_id ? { pi_session_id: record.pi_session_id } : {}),
    };
  }

  /** The Oqto session bound to a pi session, if this runner has one. */
  sessionIdForPiSession(piSessionId: string): string | undefined {
    for (const session of this.sessions.values()) if (session.piSessionId === piSessionId) return session.id;
    return this.index.findByPiSessionId(piSessionId)?.session_id;
  }

  /** State of a session that has a pi process. */
  liveState(sessionId: string): LiveState | undefined {
    const session = this.sessions.get(sessionId);
    if (!session?.isRunning) return undefined;
    return { state: session.state, ...(session.phase ? { phase: session.phase } : {}), seq: session.seq };
  }

  /** The conversation as `get_messages` returns it (history first, then pi). */
  messages(sessionId: string, limit?: number) {
    return getMessages(this.requireSession(sessionId), limit);
  }

  /** A title set from outside: the live session and its subscribers, and the index. False if unknown. */
  renameSession(sessionId: string, title: string): boolean {
    const session = this.sessions.get(sessionId) ?? this.loadFromIndex(sessionId);
    if (!session) return false;
    session.rename(title);
    return true;
  }

  /**
   * Runner start: sessions whose last write failed get the messages history lacks from pi's session
   * file. A failure leaves the mark for the next start (or the session's next write).
   */
  private async recoverHistory(): Promise<void> {
    const store = this.opts.history;
    if (!store) return;
    for (const record of this.index.listHistoryDirty()) {
      const { session_id: sessionId, pi_session_id: piSessionId, pi_session_file: file } = record;
      if (this.shuttingDown) return;
      if (!piSessionId || !file) {
        this.index.setHistoryDirty(sessionId, false);
        continue;
      }
      let messages: Message[];
      try {
        messages = mapPiConversation(sessionId, (await readPiSessionMessages(file)) ?? []);
      } catch (error) {
        this.log(`[${sessionId}] cannot read ${file} to complete history: ${(error as Error).message}`);
        continue;
      }
      const sync = new ConversationSync({
        store,
        facts: () => ({
          sessionId,
          piSessionId,
          piSessionFile: file,
          workspace: record.workspace_path,
          createdAt: record.created_at,
          title: record.title ?? undefined,
          model: record.model ?? undefined,
          provider: record.provider ?? undefined,
        }),
        onDirty: (dirty) => this.index.setHistoryDirty(sessionId, dirty),
        log: (message) => this.log(`[${sessionId}] ${message}`),
      });
      if (await sync.bind({ messageCount: messages.length, loadMessages: async () => messages })) {
        this.log(`[${sessionId}] history completed from the pi session file`);
      }
    }
  }

  private listSessions(): { sessions: SessionListing[] } {
    const listed = new Map<string, SessionListing>();
    for (const record of this.index.list()) {
      listed.set(record.session_id, {
        session_id: record.session_id,
        state: "closed",
        workspace_path: record.workspace_path,
        ...(record.provider ? { provider: record.provider } : {}),
        ...(record.model ? { model: record.model } : {}),
        ...(record.pi_session_id ? { pi_session_id: record.pi_session_id } : {}),
        ...(record.title ? { title: record.title } : {}),
        last_activity: record.last_activity,
        subscriber_count: 0,
        seq: 0,
      });
    }
    for (const s of this.sessions.values()) {
      listed.set(s.id, {
        session_id: s.id,
        state: s.state,
        ...(s.phase ? { phase: s.phase } : {}),
        workspace_path: s.workspacePath,
        ...(s.provider ? { provider: s.provider } : {}),
        ...(s.model ? { model: s.model } : {}),
        ...(s.piSessionId ? { pi_session_id: s.piSessionId } : {}),
        ...(s.title ? { title: s.title } : {}),
        last_activity: s.lastActivity,
        subscriber_count: s.subscribed ? 1 : 0,
        seq: s.seq,
      });
    }
    return { sessions: [...listed.values()].sort((a, b) => b.last_activity - a.last_activity) };
  }

  // ---- re-binding (§1.7-6) ----

  private runningIdleSession(sessionId: string, cmd: string): Session {
    const session = this.requireSession(sessionId);
    guard(session, ["idle"], cmd);
    return session;
  }

  /**
   * Moves `from`'s pi process, which pi has just put on a new pi session (`new_session`, `fork`),
   * to a new Oqto session. (`session.switch` starts a process of its own instead.)
   */
  private async rebind(from: Session, lineage?: Lineage): Promise<Session> {
    const piState = await from.requestData({ type: "get_state" }, GET_STATE_TIMEOUT_MS);
    const toId = mintSessionId();
    const process = from.handOver(toId);
    const subscribed = from.subscribed;
    from.unsubscribe();
    const to = this.newSessionObject({
      session_id: toId,
      workspace_path: from.workspacePath,
      provider: null,
      model: null,
      pi_session_id: null,
      pi_session_file: null,
      title: null,
    });
    if (subscribed) to.subscribe(undefined);
    await to.adopt(process, piState, lineage);
    return to;
  }

  private async newSession(command: CommandOf<"session.new">): Promise<{ session_id: string }> {
    const session = this.runningIdleSession(command.session_id, command.cmd);
    const parent = command.parent_session ? await this.resolveTarget(command.parent_session) : undefined;
    const result = piData(
      PiCancellableData,
      await session.requestData({
        type: "new_session",
        ...(parent ? { parentSession: parent.file } : {}),
      }),
      "new_session",
    );
    if (result.cancelled) throw new ProtocolError("harness_error", "an extension cancelled the new session");
    const parentPiSessionId = parent
      ? (parent.record?.pi_session_id ?? piSessionIdFromFile(parent.file))
      : undefined;
    const lineage = parentPiSessionId
      ? { parentPiSessionId, parentSessionId: parent?.record?.session_id }
      : undefined;
    const next = await this.rebind(session, lineage);
    return { session_id: next.id };
  }

  private async switchSession(command: CommandOf<"session.switch">): Promise<{ session_id: string }> {
    const session = this.runningIdleSession(command.session_id, command.cmd);
    const target = await this.resolveTarget(command.target_session_id);
    if (target.file === session.piSessionFile) return { session_id: session.id };
    const targetId = target.record?.session_id ?? mintSessionId();
    if (this.sessions.get(targetId)?.isRunning) {
      throw new ProtocolError("session_busy", `session ${targetId} is running in another process`);
    }
    // Not pi's switch_session: a sandboxed pi sees only its own session's files, so the target
    // gets a pi process of its own, in its own workspace's sandbox.
    const subscribed = session.subscribed || this.sessions.get(targetId)?.subscribed === true;
    await session.close("replaced", undefined, targetId);
    session.unsubscribe();
    const record = target.record;
    const next = this.newSessionObject({
      session_id: targetId,
      workspace_path: record?.workspace_path ?? session.workspacePath,
      provider: record?.provider ?? null,
      model: record?.model ?? null,
      pi_session_id: record?.pi_session_id ?? piSessionIdFromFile(target.file) ?? null,
      pi_session_file: target.file,
      title: record?.title ?? null,
    });
    if (subscribed) next.subscribe(undefined);
    await next.start();
    return { session_id: next.id };
  }

  private async fork(
    command: CommandOf<"fork">,
  ): Promise<{ text: string; cancelled: boolean; new_session_id: string }> {
    const session = this.runningIdleSession(command.session_id, command.cmd);
    const result = piData(
      PiForkData,
      await session.requestData({ type: "fork", entryId: command.entry_id }),
      "fork",
    );
    if (result.cancelled) return { text: result.text, cancelled: true, new_session_id: session.id };
    const lineage = session.piSessionId
      ? { parentPiSessionId: session.piSessionId, parentSessionId: session.id }
      : undefined;
    const next = await this.rebind(session, lineage);
    return { text: result.text, cancelled: false, new_session_id: next.id };
  }
}

function mintSessionId(): string {
  return `oqto-${Bun.randomUUIDv7()}`;
}

/** Maps a thrown error to a canonical failure; unexpected errors become `internal` and are logged. */
function failure(error: unknown, log: (message: string) => void): Outcome {
  if (error instanceof ProtocolError && ERROR_CODE_SET.has(error.code)) {
    return { success: false, error: error.message, error_code: error.code };
  }
  log(`internal error: ${(error as Error)?.stack ?? String(error)}`);
  return {
    success: false,
    error: `internal error: ${(error as Error)?.message ?? String(error)}`,
    error_code: "internal",
  };
}
