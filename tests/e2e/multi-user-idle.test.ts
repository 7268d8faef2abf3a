/**
 * Multi-user mode stops a runner whose user has had no request and no open WebSocket for
 * `[multi_user] runner_idle_s`, and starts it again on the user's next request.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { runnersOf } from "../helpers/linux-processes.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { MuxClient } from "../helpers/mux-client.ts";

const isRoot = process.getuid?.() === 0;
let stack: MultiUserStack;

beforeAll(async () => {
  if (isRoot) stack = await startMultiUserStack({ multiUserConfig: "runner_idle_s = 1" });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function until(check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await Bun.sleep(100);
  }
  return Date.now() - started;
}

describe.skipIf(!isRoot)("idle runners", () => {
  test("stop when their user is idle and has no socket open, and start again on the next request", async () => {
    const token = await stack.register("ivy", "harbor-violet-engine-61");
    const list = () =>
      fetch(`${stack.baseUrl}/api/workspaces`, { headers: { authorization: `Bearer ${token}` } });
    expect((await list()).status).toBe(200);
    const uid = lookupAccount("oqto_ivy").uid;
    expect(runnersOf(uid)).toHaveLength(1);

    // An open socket keeps it, however long the user is quiet.
    const mux = await MuxClient.connect(stack.wsUrl, token);
    await Bun.sleep(2_500);
    expect(runnersOf(uid)).toHaveLength(1);
    mux.close();

    await until(() => runnersOf(uid).length === 0, 10_000);
    expect(stack.logs()).toContain("stopping the idle runner of ivy");
    expect((await list()).status).toBe(200);
    expect(runnersOf(uid)).toHaveLength(1);
  }, 60_000);
});
