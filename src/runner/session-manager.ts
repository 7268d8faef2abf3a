/**
 * The runner's sessions: the entry point the runner socket server calls for every canonical
 * command, subscription and model write (PROTOCOL.md §1, §3.4).
 */
import { rm } from "node:fs/promises";
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
import type { SubscribeResult } from "../protocol/runner.ts";
import { readModels, writeModelsFiles } from "./models-files.ts";
import type { ResolvedPi } from "./pi-install.ts";
import type { AgentWrapper } from "./sandbox/wrap.ts";
import { getMessages, runSessionCommand } from "./session-commands.ts";
import { createSession } from "./session-create.ts";
import { recoverHistory } from "./session-history-sync.ts";
import { SessionIndex } from "./session-index.ts";
import { listSessions, runningSessions, type SessionStatus } from "./session-listing.ts";
import { fork, newSession, switchSession } from "./session-rebinding.ts";
import { SessionRegistry } from "./session-registry.ts";

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
  /**
   * What a pi process started now for this workspace would be started with beyond the pi config
   * (the effective sandbox profile): a warm spare is handed out only while it still matches.
   */
  launchKey?: (workspacePath: string) => string;
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

type Outcome = { success: true; data: unknown } | { success: false; error: string; error_code: ErrorCode };

const ERROR_CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

export class SessionManager {
  private readonly sessions: SessionRegistry;
  private readonly index: SessionIndex;
  private readonly log: (message: string) => void;
  private shuttingDown = false;
  /** Completing history for sessions an earlier runner could not save (runner start, §5.3). */
  private readonly recovery: Promise<void>;

  constructor(private readonly opts: SessionManagerOptions) {
    this.index = new SessionIndex(opts.stateDir);
    this.log = opts.log ?? ((message) => process.stderr.write(`[sessions] ${message}\n`));
    this.sessions = new SessionRegistry(opts, this.index, this.log);
    this.recovery = opts.history
      ? recoverHistory(opts.history, this.index, this.log, () => this.shuttingDown)
      : Promise.resolve();
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
    return this.sessions.require(sessionId).subscribe(afterSeq);
  }

  unsubscribe(sessionId: string): void {
    this.sessions.get(sessionId)?.unsubscribe();
  }

  unsubscribeAll(): void {
    for (const session of this.sessions.values()) session.unsubscribe();
  }

  /** Sessions with a pi process. */
  status(): { sessions: SessionStatus[] } {
    return { sessions: runningSessions(this.sessions.values()) };
  }

  /** `models.write`: pi's models.json (0600) and settings.json keys. */
  writeModels(modelsJson: Record<string, unknown>, settings?: Record<string, unknown>): Promise<void> {
    return writeModelsFiles(this.opts.agentDir, modelsJson, settings);
  }

  /** pids of the warm pi spares ready for new sessions in a workspace. */
  warmSpares(workspacePath: string): number[] {
    return this.sessions.sparesFor(workspacePath);
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
    await this.sessions.closePool();
    this.index.close();
  }

  // ---- dispatch ----

  private async dispatch(command: Command): Promise<unknown> {
    if (this.shuttingDown) throw new ProtocolError("shutting_down", "the runner is shutting down");
    if (command.session_id === SYSTEM_SESSION_ID) return this.systemCommand(command);
    switch (command.cmd) {
      case "session.create":
        return createSession(this.sessions, this.opts.workspaceRoot, command);
      case "session.subscribe":
        return this.subscribeCommand(command);
      case "session.unsubscribe":
        this.sessions.require(command.session_id).unsubscribe();
        return undefined;
      case "session.close":
        await this.sessions.require(command.session_id).close("closed");
        return undefined;
      case "session.delete":
        await this.deleteSession(command.session_id);
        return undefined;
      case "session.new":
        return newSession(this.sessions, command);
      case "session.switch":
        return switchSession(this.sessions, command);
      case "fork":
        return fork(this.sessions, command);
      case "list_sessions":
        return listSessions(this.index, this.sessions.values());
      case "delegate":
      case "delegate.cancel":
        throw new ProtocolError("not_supported", `${command.cmd} is not supported`);
      default:
        return runSessionCommand(this.sessions.require(command.session_id), command, {
          agentDir: this.opts.agentDir,
        });
    }
  }

  private async systemCommand(command: Command): Promise<unknown> {
    switch (command.cmd) {
      case "list_sessions":
        return listSessions(this.index, this.sessions.values());
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
    return getMessages(this.sessions.require(sessionId), limit);
  }

  /** A title set from outside: the live session and its subscribers, and the index. False if unknown. */
  renameSession(sessionId: string, title: string): boolean {
    const session = this.sessions.find(sessionId);
    if (!session) return false;
    session.rename(title);
    return true;
  }
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
