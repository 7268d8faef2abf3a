/**
 * The sessions a runner knows: the Session objects in memory (with a bound on stopped ones) and the
 * session index behind them, from which stopped sessions are reloaded with a new stream.
 */
import { join } from "node:path";
import { ProtocolError } from "../protocol/common.ts";
import { type ResolvedPi, resolvePi } from "./pi-install.ts";
import { piConfigFingerprint } from "./pi-pool/launch-key.ts";
import { PiPool } from "./pi-pool/pi-pool.ts";
import { Session } from "./session.ts";
import type { SessionDeps } from "./session-deps.ts";
import { findPiSessionFile } from "./session-files.ts";
import type { SessionIndex, SessionRecord } from "./session-index.ts";
import type { SessionManagerOptions } from "./session-manager.ts";
import { launchPi } from "./session-pi-launch.ts";

/** Stopped sessions kept in memory (their streams can continue); older ones are reloaded from the index. */
const STOPPED_SESSIONS_PER_SLOT = 2;

/** What a new Session object is made from; `last_activity` starts now. */
export type NewSessionRecord = Omit<SessionRecord, "last_activity" | "created_at"> & { created_at?: number };

/** A pi session file, and the indexed Oqto session bound to it if there is one. */
export interface SessionTarget {
  record?: SessionRecord;
  file: string;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private pi: ResolvedPi | undefined;
  private pool: PiPool | undefined;

  constructor(
    private readonly opts: Pick<
      SessionManagerOptions,
      "runnerId" | "config" | "agentDir" | "home" | "onEvent" | "pi" | "wrapAgent" | "history" | "launchKey"
    >,
    private readonly index: SessionIndex,
    private readonly log: (message: string) => void,
  ) {
    this.pi = opts.pi;
  }

  /** A session in memory. */
  get(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  /** A session in memory, or from the index (then stopped, with a new stream). */
  find(sessionId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    if (session) return session;
    const record = this.index.get(sessionId);
    return record ? this.add(record) : undefined;
  }

  /** Like `find`, but an unknown session is `session_not_found`. */
  require(sessionId: string): Session {
    const session = this.find(sessionId);
    if (!session) throw new ProtocolError("session_not_found", `unknown session ${sessionId}`);
    return session;
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** Forgets the session object (the index entry is the caller's). */
  delete(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** A new Session object for the record, replacing one of the same id. */
  add(record: NewSessionRecord): Session {
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

  /** Resolves an Oqto or pi session id to its pi session file and, when indexed, its Oqto session. */
  async resolveTarget(id: string): Promise<SessionTarget> {
    const record = this.index.get(id) ?? this.index.findByPiSessionId(id);
    if (record?.pi_session_file) return { record, file: record.pi_session_file };
    const file = await findPiSessionFile(id, {
      ...(this.opts.config.pi.session_dir ? { flatDir: this.opts.config.pi.session_dir } : {}),
      sessionsRoot: join(this.opts.agentDir, "sessions"),
    });
    if (!file) throw new ProtocolError("not_found", `no pi session found for ${id}`);
    return { file };
  }

  /** The indexed session's pi session file, if it has one. */
  indexedFile(sessionId: string): { record: SessionRecord; file: string } | undefined {
    const record = this.index.get(sessionId);
    return record?.pi_session_file ? { record, file: record.pi_session_file } : undefined;
  }

  /** Stops the warm spares (runner shutdown). */
  async closePool(): Promise<void> {
    await this.pool?.close();
  }

  /** pids of the warm spares ready for a workspace (status, tests). */
  sparesFor(workspacePath: string): number[] {
    return this.pool?.readyFor(workspacePath) ?? [];
  }

  private runningCount(): number {
    let running = 0;
    for (const s of this.sessions.values()) if (s.isRunning) running += 1;
    return running;
  }

  private warmPool(base: SessionDeps): PiPool | undefined {
    const { pool_size, pool_idle_s, max_sessions } = this.opts.config.runner;
    if (pool_size <= 0) return undefined;
    if (this.pool) return this.pool;
    const pool: PiPool = new PiPool({
      size: pool_size,
      idleMs: pool_idle_s * 1000,
      launch: (workspacePath, launchId) => {
        const spare = {
          id: launchId,
          workspacePath,
          piSessionFile: undefined,
          provider: undefined,
          model: undefined,
        };
        const launch = launchPi(base, spare, { onEvent: () => undefined, onExit: () => undefined }, true);
        return { process: launch.process, rebind: launch.rebind };
      },
      launchKey: (workspacePath) =>
        `${workspacePath}\0${this.opts.launchKey?.(workspacePath) ?? ""}\0${piConfigFingerprint(this.opts.agentDir)}`,
      mayStart: () => this.runningCount() + pool.size < max_sessions,
      log: this.log,
    });
    this.pool = pool;
    return pool;
  }

  private deps(): SessionDeps {
    if (!this.pi) this.pi = resolvePi(this.opts.config);
    const base = this.baseDeps(this.pi);
    return { ...base, pool: this.warmPool(base) };
  }

  private baseDeps(pi: ResolvedPi): SessionDeps {
    return {
      runnerId: this.opts.runnerId,
      config: this.opts.config,
      pi,
      home: this.opts.home,
      agentDir: this.opts.agentDir,
      index: this.index,
      sink: this.opts.onEvent,
      log: this.log,
      history: this.opts.history,
      ...(this.opts.wrapAgent ? { wrapAgent: this.opts.wrapAgent } : {}),
      reserveProcess: () => {
        const running = this.runningCount();
        if (running >= this.opts.config.runner.max_sessions) {
          throw new ProtocolError(
            "busy",
            `the runner already runs ${running} sessions (runner.max_sessions)`,
          );
        }
      },
    };
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
}
