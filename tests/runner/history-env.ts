/**
 * A runner environment with history: temp HOME with a pi agent dir on the fake LLM, a workspace,
 * a real `oqto hstry` process (gRPC on a unix socket) that tests stop and restart, and a
 * SessionManager persisting into it whose broadcast events are collected and can be awaited.
 */

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { createHistoryClient, type HistoryClient } from "../../src/history/client.ts";
import { createHistoryStore, type HistoryStore } from "../../src/history/history-store.ts";
import type { Command } from "../../src/protocol/commands.ts";
import type { AgentEvent, AgentEventOf, EventName, ResponseEvent } from "../../src/protocol/events.ts";
import { SessionManager } from "../../src/runner/session-manager.ts";
import { FAKE_SETTINGS, type FakeLlm, fakeProviderModelsJson, startFakeLlm } from "../fixtures/fake-llm.ts";

export class HistoryRunnerEnv {
  readonly home: string;
  readonly agentDir: string;
  readonly workspaceRoot: string;
  readonly workspace: string;
  readonly stateDir: string;
  readonly sessionDir: string;
  readonly socketPath: string;
  readonly dbPath: string;
  readonly events: AgentEvent[] = [];
  readonly client: HistoryClient;
  /** The same store the runner writes through (HistoryStore over gRPC). */
  readonly store: HistoryStore;
  manager: SessionManager;
  private service: Subprocess | undefined;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly dir: string,
    readonly llm: FakeLlm,
  ) {
    this.home = join(dir, "home");
    this.agentDir = join(this.home, ".pi", "agent");
    this.workspaceRoot = join(dir, "ws");
    this.workspace = join(this.workspaceRoot, "proj");
    this.stateDir = join(dir, "state");
    this.sessionDir = join(dir, "pi-sessions");
    this.socketPath = join(dir, "hstry.sock");
    this.dbPath = join(dir, "history.db");
    for (const d of [this.agentDir, this.workspace, this.sessionDir]) mkdirSync(d, { recursive: true });
    writeFileSync(join(this.agentDir, "models.json"), JSON.stringify(fakeProviderModelsJson(llm.url)));
    writeFileSync(join(this.agentDir, "settings.json"), JSON.stringify(FAKE_SETTINGS));
    this.client = createHistoryClient({ socketPath: this.socketPath });
    this.store = createHistoryStore(this.client);
    this.manager = this.createManager();
  }

  static async start(): Promise<HistoryRunnerEnv> {
    const env = new HistoryRunnerEnv(mkdtempSync("/tmp/oqh-"), await startFakeLlm());
    await env.startHistory();
    return env;
  }

  get config(): Config {
    return ConfigSchema.parse({
      pi: { extra_args: ["--no-context-files"], session_dir: this.sessionDir },
    });
  }

  /** Starts `oqto hstry` and waits until it answers. */
  async startHistory(): Promise<void> {
    const argv = [process.execPath, MAIN, "hstry", "--socket", this.socketPath, "--db", this.dbPath];
    this.service = Bun.spawn([...argv, "--data-dir", this.dir], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: process.env.OQTO_TEST_LOG ? "inherit" : "ignore",
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await this.client.read.listConversations({ sourceId: "pi", limit: 1n });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await Bun.sleep(50);
      }
    }
  }

  /** Stops the service (SIGTERM: it closes the DB and removes its socket). */
  async stopHistory(): Promise<void> {
    this.service?.kill("SIGTERM");
    await this.service?.exited;
    this.service = undefined;
  }

  /** A new SessionManager on the same state dir and history (a "runner restart"). */
  createManager(): SessionManager {
    return new SessionManager({
      runnerId: "local",
      config: this.config,
      stateDir: this.stateDir,
      workspaceRoot: this.workspaceRoot,
      agentDir: this.agentDir,
      home: this.home,
      history: this.store,
      onEvent: (_sessionId, line) => {
        this.events.push(JSON.parse(line) as AgentEvent);
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      },
      log: process.env.OQTO_TEST_LOG ? (message) => console.error(message) : () => undefined,
    });
  }

  cmd(command: Command): Promise<ResponseEvent> {
    return this.manager.command(command);
  }

  async create(sessionId: string): Promise<ResponseEvent> {
    const response = await this.cmd({
      session_id: sessionId,
      cmd: "session.create",
      config: { harness: "pi", cwd: this.workspace },
    });
    if (!response.success) throw new Error(`session.create failed: ${response.error}`);
    return response;
  }

  /** Sends a prompt and resolves with the session's events up to and including its agent.idle. */
  async turn(sessionId: string, message: string): Promise<AgentEvent[]> {
    const from = this.events.length;
    const response = await this.cmd({ session_id: sessionId, cmd: "prompt", message });
    if (!response.success) throw new Error(`prompt failed: ${response.error}`);
    const idle = await this.waitFor(sessionId, "agent.idle", from);
    return this.events.slice(from).filter((e) => e.session_id === sessionId && e.seq <= idle.seq);
  }

  /** Waits for the first event of a session (from index `from`) with that name. */
  async waitFor<E extends EventName>(
    sessionId: string,
    event: E,
    from = 0,
    timeoutMs = 30_000,
  ): Promise<AgentEventOf<E>> {
    const deadline = Date.now() + timeoutMs;
    for (let scanned = from; ; ) {
      for (; scanned < this.events.length; scanned++) {
        const e = this.events[scanned] as AgentEvent;
        if (e.session_id === sessionId && e.event === event) return e as AgentEventOf<E>;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${event} on ${sessionId}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    await this.manager.shutdown(1);
    this.client.close();
    await this.stopHistory();
    await this.llm.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
