import type { Subprocess } from "bun";
import { isSocketAnswering } from "../../shared/unix-socket.ts";

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/** A runner that lived this long is considered healthy again: the backoff resets. */
const HEALTHY_AFTER_MS = 30_000;
/** How often an adopted runner (not our child) is checked for still answering. */
const ADOPTED_CHECK_MS = 5_000;

export interface RunnerSupervisorOptions {
  argv: string[];
  /** The runner's socket: a runner that already answers there (left by a serve killed with -9) is used, not doubled. */
  socketPath: string;
  env: Record<string, string>;
  log: (message: string) => void;
}

/**
 * Single-user mode: runs `oqto runner` as a child process and restarts it with backoff when
 * it dies. The runner's output is passed through, prefixed. A runner that already answers on the
 * socket (its serve was killed with -9) is adopted: no second one is started while it lives.
 */
export class RunnerSupervisor {
  private child: Subprocess<"ignore", "inherit", "inherit"> | undefined;
  private stopped = false;
  private backoffMs = BACKOFF_MIN_MS;
  private restartTimer: Timer | undefined;

  constructor(private readonly options: RunnerSupervisorOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopped = false;
    void this.spawnUnlessAnswered(true);
  }

  private async spawnUnlessAnswered(first: boolean): Promise<void> {
    if (this.stopped) return;
    if (await isSocketAnswering(this.options.socketPath)) {
      if (first) this.options.log(`a runner already answers on ${this.options.socketPath}: using it`);
      this.restartTimer = setTimeout(() => void this.spawnUnlessAnswered(false), ADOPTED_CHECK_MS);
      return;
    }
    if (!this.stopped) this.spawn();
  }

  /** Stops the runner: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await child.exited;
    clearTimeout(killer);
  }

  private spawn(): void {
    const startedAt = Date.now();
    const child = Bun.spawn(this.options.argv, {
      env: this.options.env,
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
    });
    this.child = child;
    this.options.log(`runner started (pid ${child.pid})`);
    void child.exited.then((code) => {
      if (this.stopped) return;
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) this.backoffMs = BACKOFF_MIN_MS;
      this.options.log(
        `runner exited (code ${code}, signal ${child.signalCode ?? "none"}); restarting in ${this.backoffMs} ms`,
      );
      this.restartTimer = setTimeout(() => void this.spawnUnlessAnswered(false), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    });
  }
}
