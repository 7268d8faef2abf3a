/** PiProcess with a real pi: correlation, unmatched responses, timeouts, exit reporting, spawn errors. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../src/config/schema.ts";
import { ProtocolError } from "../../src/protocol/common.ts";
import { type PiExit, PiProcess } from "../../src/runner/harness/pi/pi-process.ts";
import type { PiCommand, PiEvent } from "../../src/runner/harness/pi/pi-schemas.ts";
import { agentPath, buildPiSpawn } from "../../src/runner/harness/pi/pi-spawn.ts";
import { resolvePi } from "../../src/runner/pi-install.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";

let env: RunnerEnv;
beforeAll(async () => {
  env = await RunnerEnv.start();
});
afterAll(async () => {
  await env.stop();
});

function spawnPi() {
  const events: PiEvent[] = [];
  const exits: PiExit[] = [];
  const logs: string[] = [];
  const spec = buildPiSpawn({
    pi: resolvePi(env.config),
    config: env.config,
    cwd: env.workspace,
    home: env.home,
    agentDir: env.agentDir,
    sessionId: "s-proc",
  });
  const pi = PiProcess.start(spec, { onEvent: (e) => events.push(e), onExit: (e) => exits.push(e) }, (m) =>
    logs.push(m),
  );
  return { pi, events, exits, logs, spec };
}

describe("buildPiSpawn", () => {
  test("builds argv and a clean env from scratch", () => {
    const config = ConfigSchema.parse({ pi: { extra_args: ["--no-context-files"], session_dir: "/tmp/x" } });
    const spec = buildPiSpawn({
      pi: { runtime: "/usr/bin/bun", cli: "/pi/cli.js", env: { BUN_BE_BUN: "1" }, version: "0.73.1" },
      config,
      cwd: "/ws/p",
      home: "/home/u",
      agentDir: "/home/u/.pi/agent",
      sessionId: "s1",
      sessionFile: "/f.jsonl",
      provider: "fake",
      model: "fake-model",
    });
    // The lean front end (`bun -e <source> -- cli.js …`) runs pi's own cli.js with pi's own arguments.
    expect(spec.argv.slice(0, 2)).toEqual(["/usr/bin/bun", "-e"]);
    expect(spec.argv.slice(3)).toEqual([
      "--",
      "/pi/cli.js",
      "--mode",
      "rpc",
      "--provider",
      "fake",
      "--model",
      "fake-model",
      "--session",
      "/f.jsonl",
      "--offline",
      "--no-context-files",
    ]);
    expect(Object.keys(spec.env).sort()).toEqual([
      "BUN_BE_BUN",
      "HOME",
      "OQTO_SESSION_ID",
      "PATH",
      "PI_CODING_AGENT_DIR",
      "PI_CODING_AGENT_SESSION_DIR",
      "PI_OFFLINE",
      "TERM",
    ]);
    expect(spec.env).toMatchObject({ HOME: "/home/u", OQTO_SESSION_ID: "s1", PI_OFFLINE: "1", TERM: "dumb" });
    expect(agentPath("/home/u", "/opt/bin:/usr/bin")).toBe(
      "/opt/bin:/usr/bin:/usr/local/bin:/bin:/home/u/.cargo/bin:/home/u/go/bin:/home/u/.local/bin:/home/u/.bun/bin:/home/u/.npm-global/bin",
    );
  });
});

describe("PiProcess", () => {
  test("matches responses by id; an unknown command's id-less answer is logged, never matched", async () => {
    const { pi, exits, logs } = spawnPi();
    const [state, bogus] = await Promise.allSettled([
      pi.request({ type: "get_state" }, 20_000),
      pi.request({ type: "no_such_command" } as unknown as PiCommand, 1_500),
    ]);
    expect(state.status === "fulfilled" && state.value.success && state.value.command === "get_state").toBe(
      true,
    );
    expect(bogus.status).toBe("rejected");
    const reason = (bogus as PromiseRejectedResult).reason as ProtocolError;
    expect(reason).toBeInstanceOf(ProtocolError);
    expect(reason.code).toBe("timeout");
    expect(logs.some((l) => l.includes("unmatched response to no_such_command"))).toBe(true);
    const refused = await pi.request({ type: "set_model", provider: "fake", modelId: "nope" }, 10_000);
    expect(refused).toMatchObject({ success: false, command: "set_model" });
    expect(refused.error).toContain("nope");

    const exit = await pi.close();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exits).toHaveLength(1);
    expect(pi.isAlive).toBe(false);
    await expect(pi.request({ type: "get_state" }, 1000)).rejects.toThrow("pi exited");
  }, 30_000);

  test("a killed pi rejects pending requests with harness_error and reports the signal", async () => {
    const { pi, exits } = spawnPi();
    await pi.request({ type: "get_state" }, 20_000);
    env.llm.script([{ hang: true }]);
    const prompt = pi.request({ type: "prompt", message: "hang" }, 20_000);
    await prompt;
    const pending = pi.request({ type: "get_messages" }, 20_000);
    process.kill(pi.pid, "SIGSTOP");
    const stalled = pi.request({ type: "get_state" }, 20_000);
    const exit = await pi.kill();
    expect(exit.signal).toBe("SIGKILL");
    expect(exits).toEqual([exit]);
    await pending.catch(() => undefined);
    await expect(stalled).rejects.toMatchObject({ code: "harness_error" });
  }, 30_000);

  test("a runtime that cannot be executed is spawn_failed", () => {
    const spec = { argv: ["/nonexistent/runtime", "cli.js"], env: {}, cwd: env.workspace };
    expect(() =>
      PiProcess.start(spec, { onEvent: () => undefined, onExit: () => undefined }, () => undefined),
    ).toThrow("cannot start pi");
  });
});
