/**
 * Single-user mode: `oqto serve` killed with -9 leaves its runner; the next serve adopts it instead
 * of starting a second one on the same socket (which used to leak one runner per crash).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { cmdline } from "../helpers/linux-processes.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** `oqto runner` processes of this stack (by its socket path in their argv). */
function runners(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const argv = cmdline(pid);
      return argv.includes("runner") && argv.some((arg) => arg.startsWith(stack.runnerDataDir));
    });
}

test("kill -9 of serve, then a new serve: the same runner, never a second, and chat works", async () => {
  const before = runners();
  expect(before).toHaveLength(1);
  stack.serve.kill("SIGKILL");
  await stack.serve.exited;
  expect(runners()).toEqual(before);
  await stack.restartServe();
  // The new serve uses the live runner and keeps from starting another (it checks every 5 s).
  await Bun.sleep(6_000);
  expect(runners()).toEqual(before);
  expect(stack.logs()).toContain("a runner already answers on");

  const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "after-kill" }),
  });
  const { path } = (await ws.json()) as { path: string };
  const mux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  expect(
    (await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd: path } })).success,
  ).toBe(true);
  stack.fakeLlm.script([{ text: "still one runner" }]);
  const from = mux.frames.length;
  expect((await mux.command(sessionId, "prompt", { message: "hello" })).success).toBe(true);
  await mux.event(sessionId, "agent.idle", from, 60_000);
  mux.close();
  expect(runners()).toEqual(before);
}, 90_000);
