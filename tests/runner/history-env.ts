/**
 * A runner environment with history: RunnerEnv plus a real `oqto hstry` process (gRPC on a unix
 * socket) that tests stop and restart, with the SessionManager persisting into it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { createHistoryClient, type HistoryClient } from "../../src/history/client.ts";
import { createHistoryStore, type HistoryStore } from "../../src/history/history-store.ts";
import type { AgentEvent } from "../../src/protocol/events.ts";
import { type FakeLlm, startFakeLlm } from "../fixtures/fake-llm.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");

export class HistoryRunnerEnv extends RunnerEnv {
  readonly socketPath: string;
  readonly dbPath: string;
  readonly client: HistoryClient;
  /** The same store the runner writes through (HistoryStore over gRPC). */
  readonly store: HistoryStore;
  private service: Subprocess | undefined;

  private constructor(dir: string, llm: FakeLlm, client: HistoryClient, store: HistoryStore) {
    super(dir, llm, {}, store);
    this.socketPath = join(dir, "hstry.sock");
    this.dbPath = join(dir, "history.db");
    this.client = client;
    this.store = store;
  }

  static override async start(): Promise<HistoryRunnerEnv> {
    const dir = mkdtempSync("/tmp/oqh-");
    const client = createHistoryClient({ socketPath: join(dir, "hstry.sock") });
    const env = new HistoryRunnerEnv(dir, await startFakeLlm(), client, createHistoryStore(client));
    await env.startHistory();
    return env;
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

  /** Sends a prompt and resolves with the session's events up to and including its agent.idle. */
  async turn(sessionId: string, message: string): Promise<AgentEvent[]> {
    const from = this.events.length;
    const response = await this.cmd({ session_id: sessionId, cmd: "prompt", message });
    if (!response.success) throw new Error(`prompt failed: ${response.error}`);
    const idle = await this.waitFor(sessionId, "agent.idle", { from });
    return this.events.slice(from).filter((e) => e.session_id === sessionId && e.seq <= idle.seq);
  }

  override async stop(): Promise<void> {
    await this.manager.shutdown(1);
    this.client.close();
    await this.stopHistory();
    await this.llm.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
