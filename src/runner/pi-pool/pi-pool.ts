/**
 * Warm spares: pi processes started ahead of need, so that a new session takes one that already
 * answers instead of waiting out pi's start (0.6-1 s idle, seconds when many start at once).
 *
 * A spare belongs to one workspace and to the launch it was made with (the workspace's effective
 * sandbox profile and the pi config copied into it: `launchKey`); it is handed out only to a new
 * session of that workspace while the key still matches, and never twice. The runner is one Linux
 * user's, so a spare never crosses users. Spares are bounded (`size`), die after `idleMs` unused,
 * and are made after a session started, never in its way. A spare that exits while idle is dropped
 * and replaced (unless it never got ready); only a spare that said it is ready is handed out.
 */
import { randomUUID } from "node:crypto";
import type { PiProcess } from "../harness/pi/pi-process.ts";

export interface SpareLaunch {
  process: PiProcess;
  /** Moves the process's LLM token to the session it is handed to. */
  rebind: (sessionId: string) => void;
}

export interface PiPoolOptions {
  /** Spares kept at most (0: no pool). */
  size: number;
  /** A spare unused this long is stopped. */
  idleMs: number;
  /** Starts a spare for a workspace under a launch id of its own (it serves no session yet). */
  launch(workspacePath: string, launchId: string): SpareLaunch;
  /** What a process started now for this workspace would be started with; a spare must still match. */
  launchKey(workspacePath: string): string;
  /** Whether another process may start (the runner's process limit leaves room). */
  mayStart(): boolean;
  log(message: string): void;
}

interface Spare extends SpareLaunch {
  workspacePath: string;
  key: string;
  ready: boolean;
  idleTimer: ReturnType<typeof setTimeout>;
}

export class PiPool {
  private readonly spares: Spare[] = [];
  private closed = false;

  constructor(private readonly options: PiPoolOptions) {}

  /** Spares held now (ready or starting). */
  get size(): number {
    return this.spares.length;
  }

  /** pids of the spares ready to be handed out for a workspace (status, tests). */
  readyFor(workspacePath: string): number[] {
    return this.spares
      .filter((s) => s.ready && s.workspacePath === workspacePath && s.process.isAlive)
      .map((s) => s.process.pid);
  }

  /**
   * A ready spare for a new session in `workspacePath`, bound to `sessionId`; undefined when there is
   * none. Spares whose launch no longer matches (profile or pi config changed) are stopped.
   */
  take(workspacePath: string, sessionId: string): PiProcess | undefined {
    let key: string;
    try {
      key = this.options.launchKey(workspacePath);
    } catch {
      return undefined; // the cold start reports what is wrong with the workspace
    }
    for (const spare of [...this.spares]) {
      if (spare.workspacePath !== workspacePath || !spare.ready || !spare.process.isAlive) continue;
      this.remove(spare);
      if (spare.key !== key) {
        this.options.log(
          `pool: spare ${spare.process.pid} was started with another profile or config; stopped`,
        );
        void spare.process.close();
        continue;
      }
      spare.process.bindSession(sessionId);
      spare.rebind(sessionId);
      return spare.process;
    }
    return undefined;
  }

  /** Makes sure a spare for `workspacePath` is ready or starting, making room by stopping the oldest. */
  refill(workspacePath: string): void {
    if (this.closed || this.options.size <= 0) return;
    if (this.spares.some((s) => s.workspacePath === workspacePath)) return;
    if (this.spares.length >= this.options.size) {
      const oldest = this.spares[0] as Spare;
      this.remove(oldest);
      void oldest.process.close();
    }
    if (!this.options.mayStart()) return;
    let launched: SpareLaunch;
    let key: string;
    try {
      key = this.options.launchKey(workspacePath);
      launched = this.options.launch(workspacePath, `pool-${randomUUID()}`);
    } catch (error) {
      this.options.log(`pool: cannot start a spare for ${workspacePath}: ${(error as Error).message}`);
      return;
    }
    const spare: Spare = {
      ...launched,
      workspacePath,
      key,
      ready: false,
      idleTimer: setTimeout(() => this.expire(spare), this.options.idleMs),
    };
    this.spares.push(spare);
    void spare.process.poolReady.then(() => {
      spare.ready = true;
      this.options.log(`pool: spare ${spare.process.pid} ready for ${workspacePath}`);
    });
    void spare.process.exited.then(() => this.exitedWhileIdle(spare));
  }

  /** Stops every spare (runner shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    const spares = this.spares.splice(0);
    for (const spare of spares) clearTimeout(spare.idleTimer);
    await Promise.all(spares.map((s) => s.process.close(1_000)));
  }

  private remove(spare: Spare): void {
    clearTimeout(spare.idleTimer);
    const at = this.spares.indexOf(spare);
    if (at >= 0) this.spares.splice(at, 1);
  }

  private expire(spare: Spare): void {
    this.remove(spare);
    void spare.process.close();
  }

  private exitedWhileIdle(spare: Spare): void {
    if (!this.spares.includes(spare)) return; // handed out or stopped on purpose
    this.remove(spare);
    this.options.log(`pool: spare ${spare.process.pid} for ${spare.workspacePath} exited while idle`);
    // One that got ready died of something else and is replaced; one that never got ready means pi
    // cannot start here, and the next session's own start will say why (no spawn loop).
    if (spare.ready) this.refill(spare.workspacePath);
  }
}
