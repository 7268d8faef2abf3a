import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { describeZodError, ProtocolError } from "../../protocol/common.ts";
import {
  TerminalCloseParams,
  type TerminalExitStatus,
  TerminalInputParams,
  TerminalOpenParams,
  TerminalResizeParams,
} from "../../protocol/terminal.ts";
import { resolveWorkspaceDir } from "../workspace-dir.ts";
import { type LoginAccount, loginAccount } from "./login-account.ts";
import { DEFAULT_OUTPUT_BATCH, type OutputBatchLimits } from "./output-batcher.ts";
import { shellEnv } from "./shell-env.ts";
import { TerminalSession } from "./terminal-session.ts";

/** Turns the shell's argv into the argv that runs it inside the workspace's sandbox. */
export type WrapCommand = (workspacePath: string, argv: string[]) => string[] | Promise<string[]>;

export interface TerminalManagerOptions {
  /** The user's workspace root; every terminal starts in a directory strictly inside it. */
  workspaceRoot: string;
  /** Output of an attached terminal, batched (see OutputBatcher). Must not throw. */
  onOutput: (terminalId: string, bytes: Uint8Array) => void;
  /** Called exactly once per terminal, after its last output. Must not throw. */
  onExit: (terminalId: string, status: TerminalExitStatus) => void;
  /** The sandbox wrapper; identity when absent. A throw refuses the terminal. */
  wrapCommand?: WrapCommand;
  maxTerminals?: number;
  scrollbackBytes?: number;
  /** How long a detached terminal waits for a client to re-attach before it is closed. */
  detachGraceMs?: number;
  /** Grace between SIGHUP and SIGKILL when a terminal is closed. */
  killGraceMs?: number;
  outputBatch?: Partial<OutputBatchLimits>;
  /** Whose login shell runs; read from passwd for the runner's own uid when absent. */
  account?: LoginAccount;
}

export const DEFAULT_MAX_TERMINALS = 16;
export const DEFAULT_SCROLLBACK_BYTES = 256 * 1024;
export const DEFAULT_DETACH_GRACE_MS = 60_000;
export const DEFAULT_KILL_GRACE_MS = 2_000;

export interface AttachedTerminal {
  terminal_id: string;
  pid: number;
  /** Output to replay to the attaching client before any live output; empty for a new terminal. */
  scrollback: Uint8Array;
}

export interface OpenedTerminal extends AttachedTerminal {
  /** True when `terminal_id` named a live terminal, which was re-attached instead of started. */
  reattached: boolean;
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ProtocolError("invalid_request", describeZodError(parsed.error));
  return parsed.data;
}

/**
 * The runner's terminals: real PTYs running the user's login shell in a workspace, optionally
 * through the sandbox wrapper. Terminals outlive their clients for a grace period so a page
 * reload re-attaches and replays the scrollback; all of them end when the runner stops.
 */
export class TerminalManager {
  private readonly sessions = new Map<string, TerminalSession>();
  /** Ids of terminals being started; they count toward the limit. */
  private readonly starting = new Set<string>();
  private readonly wrapCommand: WrapCommand;
  private readonly maxTerminals: number;
  private readonly scrollbackBytes: number;
  private readonly detachGraceMs: number;
  private readonly killGraceMs: number;
  private readonly batch: OutputBatchLimits;
  private account: LoginAccount | undefined;
  private stopping = false;

  constructor(private readonly options: TerminalManagerOptions) {
    this.wrapCommand = options.wrapCommand ?? ((_workspace, argv) => argv);
    this.maxTerminals = options.maxTerminals ?? DEFAULT_MAX_TERMINALS;
    this.scrollbackBytes = options.scrollbackBytes ?? DEFAULT_SCROLLBACK_BYTES;
    this.detachGraceMs = options.detachGraceMs ?? DEFAULT_DETACH_GRACE_MS;
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.batch = { ...DEFAULT_OUTPUT_BATCH, ...options.outputBatch };
    this.account = options.account;
    if (!Number.isInteger(this.maxTerminals) || this.maxTerminals < 1) {
      throw new RangeError(`maxTerminals must be a positive integer, got ${this.maxTerminals}`);
    }
  }

  /** Live terminals (for heartbeats and runner.status). */
  get count(): number {
    return this.sessions.size;
  }

  /**
   * Starts a login shell on a new PTY in the workspace. A `terminal_id` naming a live terminal
   * re-attaches it instead (PROTOCOL.md §2.3) and resizes it to the new client's size.
   */
  async open(params: TerminalOpenParams): Promise<OpenedTerminal> {
    const p = parse(TerminalOpenParams, params);
    if (this.stopping) throw new ProtocolError("shutting_down", "the runner is stopping");
    const workspace = await resolveWorkspaceDir(this.options.workspaceRoot, p.workspace_path);
    if (p.terminal_id !== undefined && this.sessions.has(p.terminal_id)) {
      return this.reopen(p.terminal_id, workspace, p.cols, p.rows);
    }
    const id = p.terminal_id ?? randomUUID();
    if (this.starting.has(id)) throw new ProtocolError("busy", `terminal '${id}' is already being opened`);
    if (this.sessions.size + this.starting.size >= this.maxTerminals) {
      throw new ProtocolError("busy", `at most ${this.maxTerminals} terminals may be open at once`);
    }
    this.starting.add(id);
    try {
      const account = this.loginAccount();
      const argv = await this.wrap(workspace, [account.shell, "-l"]);
      // The runner may have begun stopping while the wrapper ran; closeAll would miss this one.
      if (this.stopping) throw new ProtocolError("shutting_down", "the runner is stopping");
      const session = new TerminalSession({
        workspace,
        argv,
        env: shellEnv(account),
        cols: p.cols,
        rows: p.rows,
        scrollbackBytes: this.scrollbackBytes,
        batch: this.batch,
        killGraceMs: this.killGraceMs,
        onOutput: (bytes) => this.options.onOutput(id, bytes),
        onExit: (status) => {
          this.sessions.delete(id);
          this.options.onExit(id, status);
        },
      });
      this.sessions.set(id, session);
      return { terminal_id: id, pid: session.pid, scrollback: new Uint8Array(0), reattached: false };
    } finally {
      this.starting.delete(id);
    }
  }

  /** Re-attaches a live terminal and returns the scrollback to replay before live output. */
  attach(terminalId: string): AttachedTerminal {
    const session = this.live(terminalId);
    return { terminal_id: terminalId, pid: session.pid, scrollback: session.attach() };
  }

  /** The last client left: the terminal closes unless re-attached within the grace period. */
  detach(terminalId: string): void {
    this.live(terminalId).detach(this.detachGraceMs);
  }

  /** Detaches every terminal, e.g. when the server connection is lost. */
  detachAll(): void {
    for (const session of this.sessions.values()) {
      if (!session.closing) session.detach(this.detachGraceMs);
    }
  }

  input(terminalId: string, data: string): void {
    const p = parse(TerminalInputParams, { terminal_id: terminalId, data });
    this.live(p.terminal_id).input(p.data);
  }

  resize(terminalId: string, cols: number, rows: number): void {
    const p = parse(TerminalResizeParams, { terminal_id: terminalId, cols, rows });
    this.live(p.terminal_id).resize(p.cols, p.rows);
  }

  /** Hangs up the terminal; its exit is reported through `onExit`. Repeating it is harmless. */
  close(terminalId: string): void {
    const p = parse(TerminalCloseParams, { terminal_id: terminalId });
    const session = this.sessions.get(p.terminal_id);
    if (!session) throw new ProtocolError("not_found", `no terminal '${p.terminal_id}'`);
    session.close();
  }

  /** Closes every terminal and refuses new ones; resolves once all exits were reported. */
  async closeAll(): Promise<void> {
    this.stopping = true;
    const sessions = [...this.sessions.values()];
    for (const session of sessions) session.close();
    await Promise.all(sessions.map((session) => session.exited));
  }

  private reopen(id: string, workspace: string, cols: number, rows: number): OpenedTerminal {
    const session = this.live(id);
    if (session.workspace !== workspace) {
      throw new ProtocolError("invalid_request", `terminal '${id}' runs in another workspace`);
    }
    const scrollback = session.attach();
    session.resize(cols, rows);
    return { terminal_id: id, pid: session.pid, scrollback, reattached: true };
  }

  /** A terminal that can still take input: known and not hung up. */
  private live(terminalId: string): TerminalSession {
    const session = this.sessions.get(terminalId);
    if (!session) throw new ProtocolError("not_found", `no terminal '${terminalId}'`);
    if (session.closing) throw new ProtocolError("not_found", `terminal '${terminalId}' is closing`);
    return session;
  }

  private loginAccount(): LoginAccount {
    if (this.account) return this.account;
    try {
      this.account = loginAccount();
      return this.account;
    } catch (error) {
      throw new ProtocolError("spawn_failed", `cannot find the login shell: ${(error as Error).message}`);
    }
  }

  private async wrap(workspace: string, argv: string[]): Promise<string[]> {
    let wrapped: string[];
    try {
      wrapped = await this.wrapCommand(workspace, argv);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(
        "sandbox_error",
        `cannot build the sandbox command: ${(error as Error).message}`,
      );
    }
    if (wrapped.length === 0) throw new ProtocolError("sandbox_error", "the sandbox command is empty");
    return wrapped;
  }
}
