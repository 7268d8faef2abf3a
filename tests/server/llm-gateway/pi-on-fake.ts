/**
 * A real pi in RPC mode whose models.json points at one fake provider (or at the gateway in front of
 * it): an isolated HOME and agent dir, `prompt` waits for the turn to end and returns the assistant
 * messages pi reported on `message_end`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { PiProcess } from "../../../src/runner/harness/pi/pi-process.ts";
import type { PiAssistantMessage, PiEvent } from "../../../src/runner/harness/pi/pi-schemas.ts";
import { buildPiSpawn } from "../../../src/runner/harness/pi/pi-spawn.ts";
import { resolvePi } from "../../../src/runner/pi-install.ts";
import { FAKE_SETTINGS } from "../../fixtures/fake-llm.ts";

export interface PiOnFakeOptions {
  /** Extra environment of the pi process (e.g. `OQTO_LLM_TOKEN`, the key models.json names). */
  env?: Record<string, string>;
}

export class PiOnFake {
  readonly events: PiEvent[] = [];
  /** When each of `events` arrived (`performance.now()`), index for index: for benchmarks. */
  readonly eventTimes: number[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly dir: string,
    private readonly pi: PiProcess,
    readonly logs: string[],
  ) {}

  static async start(
    modelsJson: Record<string, unknown>,
    provider: string,
    model: string,
    options: PiOnFakeOptions = {},
  ): Promise<PiOnFake> {
    const dir = mkdtempSync("/tmp/oq-gw-pi-");
    const home = join(dir, "home");
    const agentDir = join(home, ".pi", "agent");
    const cwd = join(dir, "ws");
    const sessionDir = join(dir, "sessions");
    for (const d of [agentDir, cwd, sessionDir]) mkdirSync(d, { recursive: true });
    writeFileSync(join(agentDir, "models.json"), JSON.stringify(modelsJson));
    writeFileSync(
      join(agentDir, "settings.json"),
      JSON.stringify({ ...FAKE_SETTINGS, defaultProvider: provider, defaultModel: model }),
    );
    const config = ConfigSchema.parse({
      pi: { extra_args: ["--no-context-files"], session_dir: sessionDir },
    });
    const spec = buildPiSpawn({
      pi: resolvePi(config),
      config,
      cwd,
      home,
      agentDir,
      sessionId: "gw-dialect",
      provider,
      model,
    });
    Object.assign(spec.env, options.env);
    const logs: string[] = [];
    let self: PiOnFake | undefined;
    const pi = PiProcess.start(
      spec,
      {
        onEvent: (event) => self?.onEvent(event),
        onExit: () => self?.wake(),
      },
      (message) => logs.push(message),
    );
    self = new PiOnFake(dir, pi, logs);
    const state = await pi.request({ type: "get_state" }, 30_000);
    if (!state.success) throw new Error(`pi get_state failed: ${state.error}`);
    return self;
  }

  private onEvent(event: PiEvent): void {
    this.events.push(event);
    this.eventTimes.push(performance.now());
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Sends a prompt and returns the assistant messages of the turn (from `message_end`), once pi is idle. */
  async prompt(message: string, timeoutMs = 30_000): Promise<PiAssistantMessage[]> {
    const from = this.events.length;
    const response = await this.pi.request({ type: "prompt", message }, timeoutMs);
    if (!response.success) throw new Error(`pi refused the prompt: ${response.error}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.events.findIndex((e, i) => i >= from && e.type === "agent_end");
      if (end >= 0) {
        return this.events
          .slice(from, end)
          .flatMap((e) => (e.type === "message_end" && e.message.role === "assistant" ? [e.message] : []))
          .map((m) => m as PiAssistantMessage);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !this.pi.isAlive) {
        throw new Error(`no agent_end from pi (${this.logs.join("; ")})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The text deltas pi streamed (`message_update` text_delta) since event index `from`. */
  textDeltas(from = 0): string[] {
    return this.events.slice(from).flatMap((e) => {
      if (e.type !== "message_update" || e.assistantMessageEvent.type !== "text_delta") return [];
      return [e.assistantMessageEvent.delta ?? ""];
    });
  }

  async stop(): Promise<void> {
    await this.pi.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
