/**
 * One prompt through a real pi process, read as raw stdout lines (no runner in between): what pi
 * writes, how many bytes, and the CPU pi spent. Shared by tests/runner/lean-rpc.test.ts and
 * bench/pi-wire.ts, which compare pi's own RPC mode against the lean front end.
 */
import { readFileSync } from "node:fs";
import { buildPiSpawn } from "../../src/runner/harness/pi/pi-spawn.ts";
import { resolvePi } from "../../src/runner/pi-install.ts";
import { LineSplitter } from "../../src/shared/line-splitter.ts";
import type { RunnerEnv } from "../fixtures/runner-env.ts";

export interface RawTurn {
  /** Every stdout line from the prompt's response to agent_end, in order. */
  lines: string[];
  bytes: number;
  /** pi's user + system CPU over the turn (from /proc), milliseconds. */
  cpuMs: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** How pi is started for a RunnerEnv: behind the lean front end, or as pi's own RPC mode. */
export interface PiWires {
  /** `runtime -e <front end> -- cli …`, as the runner starts it. */
  lean: string[];
  /** The same arguments without the front end. */
  full: string[];
  env: Record<string, string>;
}

export function piWires(env: RunnerEnv, sessionId: string): PiWires {
  const spec = buildPiSpawn({
    pi: resolvePi(env.config),
    config: env.config,
    cwd: env.workspace,
    home: env.home,
    agentDir: env.agentDir,
    sessionId,
  });
  const [runtime, , , , ...piArgs] = spec.argv as [string, ...string[]];
  return { lean: spec.argv, full: [runtime, ...piArgs], env: spec.env };
}

/** utime + stime of a process, milliseconds (fields 14 and 15 of /proc/<pid>/stat). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** A started pi in RPC mode that answers prompts turn by turn. */
export class RawPi {
  private readonly proc: Bun.Subprocess<"pipe", "pipe", "ignore">;
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly backlog: string[] = [];

  constructor(argv: string[], env: Record<string, string>, cwd: string) {
    this.proc = Bun.spawn(argv, { env, cwd, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    const splitter = new LineSplitter(
      (line) => {
        const wake = this.waiting.shift();
        if (wake) wake(line);
        else this.backlog.push(line);
      },
      64 * 1024 * 1024,
      (bytes) => {
        throw new Error(`pi wrote a line of ${bytes} bytes`);
      },
    );
    const stdout = this.proc.stdout;
    void (async () => {
      for await (const chunk of stdout) splitter.push(chunk);
    })();
  }

  get pid(): number {
    return this.proc.pid;
  }

  private nextLine(): Promise<string> {
    const line = this.backlog.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private send(command: Record<string, unknown>): void {
    this.proc.stdin.write(`${JSON.stringify(command)}\n`);
    this.proc.stdin.flush();
  }

  /** A warm spare (OQTO_POOLED=1): waits for its `oqto_pool_ready` line and returns it. */
  async poolReady(): Promise<Record<string, unknown>> {
    for (;;) {
      const line = JSON.parse(await this.nextLine()) as Record<string, unknown>;
      if (line.type === "oqto_pool_ready") return line;
    }
  }

  /** Hands a warm spare to `sessionId` (its first line, before any command). */
  bind(sessionId: string): void {
    this.send({ type: "oqto_bind", session_id: sessionId });
  }

  /** Waits until pi answers get_state (started and ready). */
  async ready(): Promise<void> {
    this.send({ type: "get_state", id: "ready" });
    for (;;) if ((JSON.parse(await this.nextLine()) as { id?: string }).id === "ready") return;
  }

  /** Sends a prompt and collects pi's lines up to and including agent_end. */
  async turn(message: string): Promise<RawTurn> {
    const cpuBefore = processCpuMs(this.pid);
    this.send({ type: "prompt", id: "p", message });
    const lines: string[] = [];
    let bytes = 0;
    for (;;) {
      const line = await this.nextLine();
      lines.push(line);
      bytes += Buffer.byteLength(line) + 1;
      if ((JSON.parse(line) as { type?: string }).type === "agent_end") break;
    }
    return { lines, bytes, cpuMs: processCpuMs(this.pid) - cpuBefore };
  }

  async close(): Promise<void> {
    this.proc.stdin.end();
    await this.proc.exited;
  }
}
