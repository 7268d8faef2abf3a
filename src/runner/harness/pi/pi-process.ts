import type { Subprocess } from "bun";
import { ProtocolError } from "../../../protocol/common.ts";
import { LineSplitter } from "../../../shared/line-splitter.ts";
import { type PiCommand, PiEvent, PiResponse } from "./pi-schemas.ts";
import type { PiSpawnSpec } from "./pi-spawn.ts";

/** pi writes one JSON record per line; larger lines are refused (PROTOCOL.md §3.1 uses the same bound). */
export const MAX_PI_LINE_BYTES = 16 * 1024 * 1024;
const STDERR_TAIL_BYTES = 8 * 1024;
const CLOSE_TERM_AFTER_MS = 3_000;
const CLOSE_KILL_AFTER_MS = 10_000;
/** A grandchild that inherited pi's pipes can keep them open after pi exited; stop waiting for them. */
const PIPE_DRAIN_AFTER_EXIT_MS = 1_000;

export interface PiExit {
  code: number | null;
  signal: string | null;
  /** Last bytes pi wrote to stderr, for error messages. */
  stderrTail: string;
}

export interface PiProcessHandlers {
  onEvent(event: PiEvent): void;
  /** Called once, after every stdout record was delivered. */
  onExit(exit: PiExit): void;
}

interface Pending {
  resolve(response: PiResponse): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type Log = (message: string) => void;

/**
 * One pi process in RPC mode: LF framing, request/response correlation by runner-private ids,
 * zod validation of every stdout record, a bounded stderr tail, and graceful shutdown.
 */
export class PiProcess {
  readonly pid: number;
  /** Time of the last stdout record (watchdog input). */
  lastOutputAt = Date.now();
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private stderrTail = "";
  private exitInfo: PiExit | undefined;
  private readonly exitPromise: Promise<PiExit>;
  private readonly splitter: LineSplitter;
  private markPoolReady: () => void = () => undefined;
  /** A warm spare's front end said pi reads commands (lean-rpc.ts, OQTO_POOLED). */
  readonly poolReady = new Promise<void>((resolve) => {
    this.markPoolReady = resolve;
  });

  private constructor(
    private readonly proc: Subprocess<"pipe", "pipe", "pipe">,
    private handlers: PiProcessHandlers,
    private readonly log: Log,
  ) {
    this.pid = proc.pid;
    this.splitter = new LineSplitter(
      (line) => this.handleLine(line),
      MAX_PI_LINE_BYTES,
      (bytes) => this.log(`pi ${this.pid}: dropped a stdout line of ${bytes} bytes`),
    );
    this.exitPromise = this.watch();
  }

  /** Spawns pi. Throws `spawn_failed` when the runtime cannot be executed. */
  static start(spec: PiSpawnSpec, handlers: PiProcessHandlers, log: Log): PiProcess {
    let proc: Subprocess<"pipe", "pipe", "pipe">;
    try {
      proc = Bun.spawn(spec.argv, {
        cwd: spec.cwd,
        env: spec.env,
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
    } catch (error) {
      throw new ProtocolError(
        "spawn_failed",
        `cannot start pi (${spec.argv[0]}): ${(error as Error).message}`,
      );
    }
    return new PiProcess(proc, handlers, log);
  }

  get exited(): Promise<PiExit> {
    return this.exitPromise;
  }

  /** False from the moment the process exited, before its pipes drained and `exited` resolved. */
  get isAlive(): boolean {
    return this.exitInfo === undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Routes events and exit to another owner (session re-binding keeps the process). */
  setHandlers(handlers: PiProcessHandlers): void {
    this.handlers = handlers;
  }

  /**
   * Sends a command and resolves with pi's response (also when `success` is false). Rejects with
   * `timeout` after `timeoutMs` (a late response is then dropped) or `harness_error` if pi exits.
   */
  request(command: PiCommand, timeoutMs: number): Promise<PiResponse> {
    if (this.exitInfo) return Promise.reject(this.exitedError());
    const id = `r${this.nextId++}`;
    return new Promise<PiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError("timeout", `pi did not answer ${command.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.write({ ...command, id });
    });
  }

  /** Hands a warm spare to a session: must be the first line the process is sent (lean-rpc.ts). */
  bindSession(sessionId: string): void {
    if (this.exitInfo) throw this.exitedError();
    this.write({ type: "oqto_bind", session_id: sessionId });
  }

  /** Sends a command pi never answers (`extension_ui_response`). */
  notify(command: PiCommand): void {
    if (this.exitInfo) throw this.exitedError();
    this.write(command);
  }

  /**
   * Closes stdin (pi exits by itself), SIGTERM after 3 s, SIGKILL after 10 s; a shorter `graceMs`
   * (runner shutdown) brings both forward.
   */
  close(graceMs?: number): Promise<PiExit> {
    if (!this.exitInfo) {
      try {
        this.proc.stdin.end();
      } catch {
        // stdin already closed: the signals below still apply.
      }
      const killAfter = Math.min(graceMs ?? CLOSE_KILL_AFTER_MS, CLOSE_KILL_AFTER_MS);
      const term = setTimeout(() => this.proc.kill("SIGTERM"), Math.min(CLOSE_TERM_AFTER_MS, killAfter));
      const kill = setTimeout(() => this.proc.kill("SIGKILL"), killAfter);
      void this.exitPromise.then(() => {
        clearTimeout(term);
        clearTimeout(kill);
      });
    }
    return this.exitPromise;
  }

  /** Immediate SIGKILL (abort fallback, watchdog). */
  kill(): Promise<PiExit> {
    if (!this.exitInfo) this.proc.kill("SIGKILL");
    return this.exitPromise;
  }

  private write(record: Record<string, unknown>): void {
    this.proc.stdin.write(`${JSON.stringify(record)}\n`);
    this.proc.stdin.flush();
  }

  private exitedError(): ProtocolError {
    const how = this.exitInfo?.signal ? `signal ${this.exitInfo.signal}` : `code ${this.exitInfo?.code}`;
    const tail = this.exitInfo?.stderrTail.trim();
    return new ProtocolError("harness_error", `pi exited (${how})${tail ? `: ${tail}` : ""}`);
  }

  private handleLine(line: string): void {
    this.lastOutputAt = Date.now();
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.log(`pi ${this.pid}: skipped a stdout line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
    if (type === "response") {
      this.handleResponse(raw);
      return;
    }
    if (type === "oqto_pool_ready") {
      this.markPoolReady();
      return;
    }
    const parsed = PiEvent.safeParse(raw);
    if (!parsed.success) {
      this.log(
        `pi ${this.pid}: skipped an invalid record (${parsed.error.message.slice(0, 300)}): ${line.slice(0, 200)}`,
      );
      return;
    }
    try {
      this.handlers.onEvent(parsed.data);
    } catch (error) {
      // A bug in a handler must not stop the stream of the next records.
      this.log(`pi ${this.pid}: event handler failed on ${parsed.data.type}: ${(error as Error).stack}`);
    }
  }

  private handleResponse(raw: unknown): void {
    const parsed = PiResponse.safeParse(raw);
    if (!parsed.success) {
      this.log(`pi ${this.pid}: skipped an invalid response: ${parsed.error.message.slice(0, 300)}`);
      return;
    }
    const response = parsed.data;
    const pending = response.id === undefined ? undefined : this.pending.get(response.id);
    if (!pending) {
      // No id: unknown command or bad JSON (PI-RPC.md §3); never matched to a request.
      this.log(`pi ${this.pid}: unmatched response to ${response.command}: ${response.error ?? "ok"}`);
      return;
    }
    this.pending.delete(response.id as string);
    clearTimeout(pending.timer);
    pending.resolve(response);
  }

  private async readStdout(): Promise<void> {
    try {
      for await (const chunk of this.proc.stdout) this.splitter.push(chunk);
    } catch (error) {
      this.log(`pi ${this.pid}: stdout failed: ${(error as Error).message}`);
    }
  }

  private async readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.proc.stderr) {
        this.stderrTail = (this.stderrTail + decoder.decode(chunk, { stream: true })).slice(
          -STDERR_TAIL_BYTES,
        );
      }
    } catch (error) {
      this.log(`pi ${this.pid}: stderr failed: ${(error as Error).message}`);
    }
  }

  private async watch(): Promise<PiExit> {
    const drained = Promise.all([this.readStdout(), this.readStderr()]);
    await this.proc.exited;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      drained,
      new Promise((resolve) => (timer = setTimeout(resolve, PIPE_DRAIN_AFTER_EXIT_MS))),
    ]);
    clearTimeout(timer);
    const signal = this.proc.signalCode;
    const exit: PiExit = {
      code: this.proc.exitCode,
      signal: signal === null ? null : String(signal),
      stderrTail: this.stderrTail,
    };
    this.exitInfo = exit;
    const error = this.exitedError();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    this.handlers.onExit(exit);
    return exit;
  }
}
