/** Fixtures for the terminal tests: a workspace root, a manager on real PTYs, and an output probe. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ProtocolError } from "../../src/protocol/common.ts";
import type { TerminalExitStatus } from "../../src/protocol/terminal.ts";
import { TerminalManager, type TerminalManagerOptions } from "../../src/runner/terminal/terminal-manager.ts";

const POLL_MS = 10;
export const WAIT_MS = 10_000;

/** Everything the manager reported, per terminal: decoded output, raw pushes and exits. */
export class TerminalProbe {
  readonly pushes = new Map<string, Uint8Array[]>();
  readonly exits = new Map<string, TerminalExitStatus[]>();
  private readonly text = new Map<string, string>();
  private readonly decoders = new Map<string, TextDecoder>();

  onOutput = (id: string, bytes: Uint8Array): void => {
    this.pushes.set(id, [...(this.pushes.get(id) ?? []), bytes.slice()]);
    const decoder = this.decoders.get(id) ?? new TextDecoder();
    this.decoders.set(id, decoder);
    this.text.set(id, this.output(id) + decoder.decode(bytes, { stream: true }));
  };

  onExit = (id: string, status: TerminalExitStatus): void => {
    this.exits.set(id, [...(this.exits.get(id) ?? []), status]);
  };

  output(id: string): string {
    return this.text.get(id) ?? "";
  }

  /** Waits until the terminal's output matches and returns all of it. */
  async waitFor(id: string, pattern: RegExp, timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output(id))) {
      if (Date.now() > deadline) {
        throw new Error(`no ${pattern} in terminal output within ${timeoutMs} ms:\n${this.output(id)}`);
      }
      await Bun.sleep(POLL_MS);
    }
    return this.output(id);
  }

  async waitExit(id: string, timeoutMs = WAIT_MS): Promise<TerminalExitStatus> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exits.has(id)) {
      if (Date.now() > deadline) throw new Error(`terminal ${id} did not exit within ${timeoutMs} ms`);
      await Bun.sleep(POLL_MS);
    }
    return this.exits.get(id)?.[0] ?? {};
  }
}

export interface TerminalFixture {
  base: string;
  /** The workspace root, and one workspace in it. */
  root: string;
  ws: string;
  /** A directory beside the root, standing for anywhere outside it. */
  outside: string;
  probe: TerminalProbe;
  manager: TerminalManager;
  cleanup(): Promise<void>;
}

export function makeFixture(
  options: Partial<Omit<TerminalManagerOptions, "onOutput" | "onExit">> = {},
): TerminalFixture {
  const base = mkdtempSync("/tmp/tt-");
  const root = join(base, "root");
  const ws = join(root, "ws");
  const outside = join(base, "outside");
  mkdirSync(ws, { recursive: true });
  mkdirSync(outside);
  const probe = new TerminalProbe();
  const manager = new TerminalManager({
    workspaceRoot: root,
    onOutput: probe.onOutput,
    onExit: probe.onExit,
    ...options,
  });
  return {
    base,
    root,
    ws,
    outside,
    probe,
    manager,
    cleanup: async () => {
      await manager.closeAll();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The protocol error code a call fails with (sync or async). */
export async function errorCode(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  throw new Error("expected a ProtocolError, but the call succeeded");
}

/** A `sleep` command line no other process has, so pgrep can find exactly this one. */
export function uniqueSleep(): string {
  return `sleep 30.${process.pid}${Math.floor(Math.random() * 1e6)}`;
}

/** Waits until exactly `count` processes on the host have this command line. */
export async function waitForProcesses(commandLine: string, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = Bun.spawnSync(["pgrep", "-fx", commandLine]).stdout.toString().trim();
    const pids = found === "" ? [] : found.split("\n");
    if (pids.length === count) return;
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} '${commandLine}' processes, found ${pids.length}`);
    }
    await Bun.sleep(POLL_MS);
  }
}
