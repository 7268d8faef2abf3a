/**
 * The warm pool through the product (serve, runner, real bwrap, the LLM gateway): a new session
 * takes a spare that was started in its workspace's sandbox, its LLM calls pass the gateway as that
 * session's (the spare's token was moved to it), and after the workspace tightened its profile the
 * spare made under the old one is not handed out: the next session runs under the new profile.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { processAlive, until } from "../helpers/wait.ts";

let stack: Stack;
let client: MuxClient;
let auth: Record<string, string>;
/** The spare the first test's session took (it keeps OQTO_POOLED in its environ). */
let handedOut = 0;

beforeAll(async () => {
  stack = await startStack({ runnerConfig: "pool_size = 1" });
  auth = { authorization: `Bearer ${stack.admin.token}` };
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "warm" }),
  });
  expect(res.status).toBe(201);
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

const workspacePath = () => `${stack.workspaceRoot}/warm`;

/** pids of the pi processes (not the bwrap around them) started as warm spares, or not. */
function piPids(pooled: boolean): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (!cmdline.includes("--mode\0rpc") || cmdline.split("\0")[0]?.endsWith("bwrap")) return false;
        const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
        return environ.includes("OQTO_POOLED=1") === pooled;
      } catch {
        return false;
      }
    })
    .map(Number)
    .sort();
}

/** A spare that said it is ready (the pool logs the pid it started: bwrap's), not just spawned. */
const readySpare = (not: number[] = []) =>
  until(
    "a ready warm spare",
    () =>
      [...stack.logs().matchAll(/pool: spare (\d+) ready/g)]
        .map((m) => Number(m[1]))
        .find((pid) => !not.includes(pid) && processAlive(pid)),
    30_000,
  );

async function createSession(): Promise<string> {
  const sessionId = newSessionId();
  const res = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: workspacePath() },
  });
  expect(res.success).toBe(true);
  return sessionId;
}

/** Runs a bash tool call in the session and returns its output, after the answer that follows it. */
async function runTool(sessionId: string, command: string): Promise<{ output: string; answer: string }> {
  await stack.fakeLlm.script([
    { toolCalls: [{ name: "bash", arguments: { command } }] },
    { text: ["done ", "here"] },
  ]);
  const from = client.frames.length;
  expect((await client.command(sessionId, "prompt", { message: "run it" })).success).toBe(true);
  await client.event(sessionId, "agent.idle", from, 60_000);
  const frames = client.frames.slice(from).filter((f: Frame) => f.session_id === sessionId);
  const end = frames.find((f) => f.event === "tool.end") as Frame & { output: string };
  const answer = frames
    .filter((f) => f.event === "stream.text_delta")
    .map((f) => f.delta)
    .join("");
  return { output: end.output, answer };
}

/** The session id the tools see, and whether the sandbox has a network (development) or not (strict). */
const probe = () =>
  `echo "SID=$OQTO_SESSION_ID"; (exec 3<>/dev/tcp/127.0.0.1/${new URL(stack.baseUrl).port}) 2>/dev/null && echo NET-OPEN || echo NET-CLOSED`;

test("a new session takes a sandboxed spare, and its LLM calls are the session's", async () => {
  await createSession(); // cold: the pool fills behind it
  const spare = await readySpare();
  const cold = piPids(false);
  const warm = await createSession();
  const { output, answer } = await runTool(warm, probe());
  // No pi was started for the session: it runs on the spare (whose tools see the session's id).
  expect(piPids(false)).toEqual(cold);
  expect(processAlive(spare)).toBe(true);
  handedOut = spare;
  expect(output).toContain(`SID=${warm}`);
  expect(output).toContain("NET-OPEN"); // the development profile
  expect(answer).toBe("done here");
  // The gateway counted the calls as the session's: the spare's token was moved to it.
  const usage = (await (
    await fetch(`${stack.baseUrl}/api/usage?group=session`, { headers: auth })
  ).json()) as {
    rows: Array<{ key: string; requests: number }>;
  };
  expect(usage.rows.find((r) => r.key === warm)?.requests).toBe(2);
}, 120_000);

test("after the workspace tightened its profile, the spare made under the old one is not handed out", async () => {
  const spare = await readySpare([handedOut]);
  const put = await fetch(`${stack.baseUrl}/api/workspaces/warm/sandbox`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ profile: "strict" }),
  });
  expect(put.status).toBe(200);
  const strict = await createSession();
  const { output, answer } = await runTool(strict, probe());
  expect(output).toContain(`SID=${strict}`);
  expect(output).toContain("NET-CLOSED"); // strict: so not the spare started under development
  expect(answer).toBe("done here");
  await until("the stale spare to stop", () => (processAlive(spare) ? undefined : true), 30_000);
}, 120_000);
