import type { TerminalExitStatus } from "../../protocol/terminal.ts";
import { OutputBatcher, type OutputBatchLimits } from "./output-batcher.ts";
import { ScrollbackBuffer } from "./scrollback-buffer.ts";
import { TerminalProcess } from "./terminal-process.ts";

export interface TerminalSessionOptions {
  /** Real path of the workspace the shell started in. */
  workspace: string;
  argv: string[];
  env: Record<string, string>;
  cols: number;
  rows: number;
  scrollbackBytes: number;
  batch: OutputBatchLimits;
  /** Grace between SIGHUP and SIGKILL when the terminal is closed. */
  killGraceMs: number;
  onOutput: (bytes: Uint8Array) => void;
  onExit: (status: TerminalExitStatus) => void;
}

/**
 * A live terminal and its attachment state. Output always lands in the scrollback; it is passed
 * on only while a client is attached, so the scrollback holds exactly what a re-attaching client
 * has not seen plus what it had seen, and nothing twice.
 */
export class TerminalSession {
  readonly workspace: string;
  /** Resolves once the exit has been reported. */
  readonly exited: Promise<void>;
  private readonly process: TerminalProcess;
  private readonly scrollback: ScrollbackBuffer;
  private readonly batcher: OutputBatcher;
  private readonly killGraceMs: number;
  private attachedNow = true;
  private closingNow = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: TerminalSessionOptions) {
    this.workspace = options.workspace;
    this.killGraceMs = options.killGraceMs;
    this.scrollback = new ScrollbackBuffer(options.scrollbackBytes);
    this.batcher = new OutputBatcher(options.batch, (bytes) => {
      this.scrollback.append(bytes);
      if (this.attachedNow) options.onOutput(bytes);
    });
    let reported!: () => void;
    this.exited = new Promise((resolve) => {
      reported = resolve;
    });
    this.process = new TerminalProcess({
      argv: options.argv,
      cwd: options.workspace,
      env: options.env,
      cols: options.cols,
      rows: options.rows,
      onData: (bytes) => this.batcher.push(bytes),
      onExit: (status) => {
        clearTimeout(this.graceTimer);
        this.batcher.close();
        options.onExit(status);
        reported();
      },
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** True once a hangup was sent; the exit follows. */
  get closing(): boolean {
    return this.closingNow;
  }

  input(data: string): void {
    this.process.write(data);
  }

  resize(cols: number, rows: number): void {
    this.process.resize(cols, rows);
  }

  /**
   * Attaches a client and returns what it must replay. Pending output is flushed first, so it
   * is in the replay and, if the terminal was detached, not passed on a second time.
   */
  attach(): Uint8Array {
    this.batcher.flush();
    const replay = this.scrollback.snapshot();
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.attachedNow = true;
    return replay;
  }

  /** No client watches any more: close the terminal unless one attaches within `graceMs`. */
  detach(graceMs: number): void {
    this.attachedNow = false;
    if (this.graceTimer === undefined && !this.closingNow) {
      this.graceTimer = setTimeout(() => this.close(), graceMs);
    }
  }

  close(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.closingNow = true;
    this.process.hangup(this.killGraceMs);
  }
}
