/**
 * The warm pool with real pi processes: a new session takes a ready spare (bound to it: its
 * OQTO_SESSION_ID is the session's), the pool refills behind it, a spare never serves another
 * workspace or a changed profile or config, and a spare that died while idle is replaced and never
 * handed out.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent } from "../../src/protocol/events.ts";
import { FAKE_SETTINGS } from "../fixtures/fake-llm.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";
import { processAlive, until } from "../helpers/wait.ts";

let env: RunnerEnv;
let other: string;
beforeAll(async () => {
  env = await RunnerEnv.start({ runner: { pool_size: 2 } });
  other = join(env.workspaceRoot, "other");
  mkdirSync(other);
});
afterAll(async () => {
  await env.stop();
});

const spareOf = (workspace: string) =>
  until(`a warm spare for ${workspace}`, () => env.manager.warmSpares(workspace)[0]);

/** The pid and OQTO_SESSION_ID of the pi process serving a session, from a tool it runs. */
async function piOf(sessionId: string): Promise<{ pid: number; sessionEnv: string }> {
  env.llm.script([
    { toolCalls: [{ name: "bash", arguments: { command: 'echo "$PPID $OQTO_SESSION_ID"' } }] },
    { text: "ok" },
  ]);
  const from = env.events.length;
  await env.cmd({ session_id: sessionId, cmd: "prompt", message: "who runs you?" });
  const end = await env.waitFor(sessionId, "tool.end", { from });
  await env.waitFor(sessionId, "agent.idle", { from });
  const [ppid, sessionEnv] = (end as AgentEvent & { output: string }).output.trim().split(" ");
  // bash's parent is pi itself, or a shell pi started it through: walk up to the pi process.
  let pid = Number(ppid);
  for (let hop = 0; hop < 3; hop++) {
    const cmdline = await Bun.file(`/proc/${pid}/cmdline`).text();
    if (cmdline.includes("--mode")) break;
    const stat = await Bun.file(`/proc/${pid}/stat`).text();
    pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  }
  return { pid, sessionEnv: sessionEnv ?? "" };
}

describe("warm pi pool", () => {
  test("a new session takes the workspace's ready spare, bound to it, and the pool refills", async () => {
    await env.create("s-cold");
    const spare = await spareOf(env.workspace);
    await env.create("s-warm");
    const served = await piOf("s-warm");
    expect(served.pid).toBe(spare);
    expect(served.sessionEnv).toBe("s-warm");
    expect(env.manager.warmSpares(env.workspace)).not.toContain(spare);
    const next = await spareOf(env.workspace);
    expect(next).not.toBe(spare);
    // The warm session is a full session: its pi session file is its own and it answers.
    const listed = await env.cmd({ session_id: "s-warm", cmd: "get_state" });
    expect(listed.success).toBe(true);
  }, 60_000);

  test("a spare never serves another workspace", async () => {
    const spare = await spareOf(env.workspace);
    await env.create("s-other", { cwd: other });
    const served = await piOf("s-other");
    expect(served.pid).not.toBe(spare);
    expect(served.sessionEnv).toBe("s-other");
    expect(env.manager.warmSpares(env.workspace)).toContain(spare);
  }, 60_000);

  test("a spare made under another profile or pi config is stopped, not handed out", async () => {
    const spare = await spareOf(env.workspace);
    env.profileOf = (workspace) => (workspace === env.workspace ? "tightened" : "");
    try {
      await env.create("s-tightened");
      const served = await piOf("s-tightened");
      expect(served.pid).not.toBe(spare);
      await until("the stale spare to stop", () => (processAlive(spare) ? undefined : true));
    } finally {
      env.profileOf = () => "";
    }
    const fresh = await spareOf(env.workspace);
    writeFileSync(
      join(env.agentDir, "settings.json"),
      JSON.stringify({ ...FAKE_SETTINGS, quietStartup: false }),
    );
    await env.create("s-new-config");
    expect((await piOf("s-new-config")).pid).not.toBe(fresh);
  }, 90_000);

  test("a spare that died while idle is replaced and never handed out", async () => {
    const spare = await spareOf(env.workspace);
    process.kill(spare, "SIGKILL");
    await env.create("s-after-death");
    const served = await piOf("s-after-death");
    expect(served.pid).not.toBe(spare);
    expect(served.sessionEnv).toBe("s-after-death");
    const replacement = await spareOf(env.workspace);
    expect(replacement).not.toBe(spare);
    expect(processAlive(replacement)).toBe(true);
  }, 60_000);

  test("the pool stays within its size and stops its spares with the runner", async () => {
    await spareOf(other);
    await spareOf(env.workspace);
    const third = join(env.workspaceRoot, "third");
    mkdirSync(third);
    await env.create("s-third", { cwd: third });
    const spares = await spareOf(third);
    // Size 2: the oldest workspace's spare made room.
    const all = [other, env.workspace, third].flatMap((w) => env.manager.warmSpares(w));
    expect(all.length).toBeLessThanOrEqual(2);
    await env.manager.shutdown(2);
    await until("the spares to stop", () => (processAlive(spares) ? undefined : true));
  }, 60_000);
});
