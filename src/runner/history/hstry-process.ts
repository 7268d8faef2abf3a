/**
 * The embedded history service as the runner's supervised child: `oqto hstry --socket S --db D`,
 * restarted with backoff when it dies. A pid file lets the next runner stop a service that a
 * killed runner left behind, so the socket is never held by an orphan.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/** A service that lived this long counts as healthy again: the backoff resets. */
const HEALTHY_AFTER_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface HstryProcessOptions {
  /** argv of `oqto hstry` with its flags. */
  argv: string[];
  socketPath: string;
  pidFile: string;
  log: (message: string) => void;
}

export class HstryProcess {
  private child: Subprocess<"ignore", "ignore", "inherit"> | undefined;
  private stopped = false;
  private backoffMs = BACKOFF_MIN_MS;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: HstryProcessOptions) {}

  get isAlive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops a service an earlier runner left running on our socket, then starts ours. */
  async start(): Promise<void> {
    await this.stopOrphan();
    this.spawn();
  }

  /** SIGTERM (the service closes its DB and removes the socket), SIGKILL after a grace period. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && this.isAlive) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await child.exited;
      clearTimeout(killer);
    }
    rmSync(this.options.pidFile, { force: true });
  }

  private spawn(): void {
    const startedAt = Date.now();
    let child: Subprocess<"ignore", "ignore", "inherit">;
    try {
      child = Bun.spawn(this.options.argv, { stdin: "ignore", stdout: "ignore", stderr: "inherit" });
    } catch (error) {
      // The runner keeps working without history (turns report history_unavailable); retry later.
      this.options.log(`cannot start the history service: ${(error as Error).message}`);
      this.scheduleRestart();
      return;
    }
    this.child = child;
    try {
      writeFileSync(this.options.pidFile, `${child.pid}\n`, { mode: 0o600 });
    } catch (error) {
      this.options.log(`cannot record the history service's pid: ${(error as Error).message}`);
    }
    this.options.log(`history service started (pid ${child.pid})`);
    void child.exited.then((code) => {
      if (this.stopped) return;
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) this.backoffMs = BACKOFF_MIN_MS;
      this.options.log(`history service exited (code ${code}, signal ${child.signalCode ?? "none"})`);
      this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    this.options.log(`restarting the history service in ${this.backoffMs} ms`);
    this.restartTimer = setTimeout(() => this.spawn(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }

  /**
   * A runner killed with SIGKILL cannot stop its child. The pid file names it; it is stopped only if
   * that pid still runs `hstry` on our socket (a recycled pid belongs to someone else).
   */
  private async stopOrphan(): Promise<void> {
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(this.options.pidFile, "utf8"), 10);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !runsOurService(pid, this.options.socketPath)) return;
    this.options.log(`stopping the history service a previous runner left running (pid ${pid})`);
    signal(pid, "SIGTERM");
    const deadline = Date.now() + STOP_GRACE_MS;
    while (isRunning(pid) && Date.now() < deadline) await Bun.sleep(50);
    if (isRunning(pid)) signal(pid, "SIGKILL");
    while (isRunning(pid)) await Bun.sleep(20);
  }
}

function runsOurService(pid: number, socketPath: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.includes("hstry") && args.includes(socketPath);
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    // A zombie still has a /proc entry: it counts as gone once its state says so.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

function signal(pid: number, name: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
