import { constants } from "node:os";
import type { Subprocess } from "bun";
import { ProtocolError } from "../../protocol/common.ts";
import type { TerminalExitStatus } from "../../protocol/terminal.ts";

/**
 * How long to wait, once the process has exited, for the PTY to report end of file. Output the
 * shell printed just before exiting is still in the PTY then; a background job that keeps the
 * PTY open must not delay the exit report forever.
 */
const PTY_DRAIN_MS = 100;

function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === signal);
  return entry ? entry[0] : String(signal);
}

export interface TerminalProcessOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  onData: (bytes: Uint8Array) => void;
  /** Called once, after the process has exited and its PTY has drained and closed. */
  onExit: (status: TerminalExitStatus) => void;
}

/** One process on its own PTY (Bun.spawn with `terminal`, SANDBOX.md §6). */
export class TerminalProcess {
  private readonly proc: Subprocess;
  private readonly terminal: Bun.Terminal;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  private exited = false;

  constructor(options: TerminalProcessOptions) {
    let ptyClosed!: () => void;
    const drained = new Promise<void>((resolve) => {
      ptyClosed = resolve;
    });
    try {
      this.proc = Bun.spawn(options.argv, {
        cwd: options.cwd,
        env: options.env,
        terminal: {
          cols: options.cols,
          rows: options.rows,
          data: (_terminal, bytes) => options.onData(bytes),
          exit: () => ptyClosed(),
        },
      });
    } catch (error) {
      throw new ProtocolError(
        "spawn_failed",
        `cannot start '${options.argv[0]}': ${(error as Error).message}`,
      );
    }
    const terminal = this.proc.terminal;
    if (!terminal) throw new ProtocolError("spawn_failed", "the process was started without a PTY");
    this.terminal = terminal;
    void this.proc.exited.then(async () => {
      this.exited = true;
      clearTimeout(this.killTimer);
      await Promise.race([drained, Bun.sleep(PTY_DRAIN_MS)]);
      this.terminal.close();
      const status: TerminalExitStatus = {};
      const signal = this.proc.signalCode;
      if (signal !== null) status.signal = typeof signal === "number" ? signalName(signal) : signal;
      else if (this.proc.exitCode !== null) status.exit_code = this.proc.exitCode;
      options.onExit(status);
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  write(data: string): void {
    if (!this.exited) this.terminal.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.terminal.resize(cols, rows);
  }

  /**
   * Hangs up like a closed terminal window: SIGHUP lets the shell pass the hangup on to its jobs
   * and exit; whatever still runs after `killAfterMs` is killed.
   */
  hangup(killAfterMs: number): void {
    if (this.exited || this.killTimer !== undefined) return;
    this.proc.kill("SIGHUP");
    this.killTimer = setTimeout(() => {
      if (!this.exited) this.proc.kill("SIGKILL");
    }, killAfterMs);
  }
}
