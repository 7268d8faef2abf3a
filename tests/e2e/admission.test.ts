/**
 * Admission (issue 14): with `[admission] max_generating_sessions = 1` a real serve, runner and pi
 * let one session generate; later prompts are answered at once with their queue position, wait in
 * a visible FIFO queue and start in order as turns end; abort of a queued session removes it and
 * those behind move up; an admin sees the queue, nobody else does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AdminAdmission } from "../../src/protocol/index.ts";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let client: MuxClient;
let workspace: string;
/** Instant answers: a prompt or abort of a queued session does not wait for anything. */
const INSTANT_MS = 200;

async function createSession(): Promise<string> {
  const sessionId = newSessionId();
  const res = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: workspace },
  });
  expect(res.success).toBe(true);
  return sessionId;
}

async function timed(run: () => Promise<Frame>): Promise<{ frame: Frame; ms: number }> {
  const started = performance.now();
  const frame = await run();
  return { frame, ms: performance.now() - started };
}

const queueFrames = (mux: MuxClient, sessionId: string, from = 0) =>
  mux.frames.slice(from).filter((f) => f.type === "queue" && f.session_id === sessionId);

function waitQueue(mux: MuxClient, sessionId: string, test: (f: Frame) => boolean, from = 0) {
  return mux.waitFor((f) => f.type === "queue" && f.session_id === sessionId && test(f), 30_000, from);
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

async function admission(token = stack.admin.token): Promise<Response> {
  return fetch(`${stack.baseUrl}/api/admin/admission`, { headers: { authorization: `Bearer ${token}` } });
}

/** The user message of each chat request the fake LLM got, in order (pi's own side calls have none of ours). */
function promptedWords(): string[] {
  const words = ["alpha", "bravo", "charlie", "delta"];
  return stack.fakeLlm
    .requests()
    .map((body) => JSON.stringify((body as { messages?: unknown[] }).messages?.at(-1) ?? ""))
    .map((last) => words.find((w) => last.includes(w)))
    .filter((w): w is string => w !== undefined);
}

beforeAll(async () => {
  stack = await startStack({ extraConfig: "[admission]\nmax_generating_sessions = 1\n" });
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "main" }),
  });
  expect(res.status).toBe(201);
  workspace = ((await res.json()) as { path: string }).path;
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe("admission queue", () => {
  test("the queue admits in order, shows positions, and abort of a queued session removes it", async () => {
    stack.fakeLlm.script([
      { match: "alpha", text: ["alpha is working "], hang: true },
      { match: "bravo", text: ["bravo is working "], hang: true },
      { match: "charlie", text: ["charlie must never run"] },
      { match: "delta", text: ["delta ", "done"] },
    ]);
    const [a, b, c, d] = [
      await createSession(),
      await createSession(),
      await createSession(),
      await createSession(),
    ];
    if (!a || !b || !c || !d) throw new Error("sessions");

    // A takes the one slot.
    let from = client.frames.length;
    const first = await client.command(a, "prompt", { message: "alpha" });
    expect(first.success).toBe(true);
    expect(first.data).toBeUndefined();
    await client.event(a, "agent.working", from);

    // B, C, D are answered at once with positions 1, 2, 3, and their sockets see the same.
    from = client.frames.length;
    const answers: Array<{ frame: Frame; ms: number }> = [];
    for (const [id, word] of [
      [b, "bravo"],
      [c, "charlie"],
      [d, "delta"],
    ] as const)
      answers.push(
        await timed(() => client.command(id, "prompt", { message: word, client_id: `${word}-1` })),
      );
    for (const [i, { frame, ms }] of answers.entries()) {
      expect(frame.success).toBe(true);
      expect((frame.data as { queued: { position: number } }).queued.position).toBe(i + 1);
      expect(ms).toBeLessThan(INSTANT_MS);
    }
    expect(queueFrames(client, b, from).at(-1)).toMatchObject({ position: 1, limit: 1, generating: 1 });
    expect(queueFrames(client, c, from).at(-1)).toMatchObject({ position: 2 });
    expect(queueFrames(client, d, from).at(-1)).toMatchObject({ position: 3 });

    // A second prompt for a queued session is refused (its one turn waits); the same client_id is a duplicate, not an error.
    const again = await client.command(b, "prompt", { message: "bravo again" });
    expect(again).toMatchObject({ success: false, error_code: "session_busy" });
    expect(String(again.error)).toContain("admission queue");
    const duplicate = await client.command(b, "prompt", { message: "bravo", client_id: "bravo-1" });
    expect(duplicate.success).toBe(true);

    // The admin sees who generates and who waits, in order; another user is refused.
    const view = (await (await admission()).json()) as AdminAdmission;
    expect(view.limit).toBe(1);
    expect(view.generating.map((s) => s.session_id)).toEqual([a]);
    expect(view.queue.map((s) => [s.session_id, s.position])).toEqual([
      [b, 1],
      [c, 2],
      [d, 3],
    ]);
    expect(view.queue[0]).toMatchObject({ username: stack.admin.username, workspace_path: workspace });
    expect(view.queue[0]?.queued_at).toBeGreaterThan(Date.now() - 60_000);
    const userToken = await stack.addUser("queueuser", "a-long-enough-password-1");
    const refused = await admission(userToken);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "FORBIDDEN", error: expect.any(String) });

    // Abort of a queued session answers at once and removes it; D moves up to 2.
    from = client.frames.length;
    const abort = await timed(() => client.command(c, "abort"));
    expect(abort.ms).toBeLessThan(INSTANT_MS);
    expect(abort.frame).toMatchObject({ success: true, data: { was_running: false, dequeued: true } });
    expect(queueFrames(client, c, from).at(-1)).toMatchObject({ position: null, reason: "aborted" });
    expect(queueFrames(client, d, from).at(-1)).toMatchObject({ position: 2 });
    expect(queueFrames(client, b, from)).toEqual([]); // nothing changed ahead of C

    // A socket that subscribes to a queued session gets its position at once.
    const watcher = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    try {
      const sub = await watcher.command(d, "session.subscribe");
      expect(sub.success).toBe(true);
      expect(await waitQueue(watcher, d, () => true)).toMatchObject({ position: 2 });
    } finally {
      watcher.close();
    }

    // A's turn ends: B is admitted (and only B), then streams.
    from = client.frames.length;
    const stopA = await client.command(a, "abort");
    expect(stopA.success).toBe(true);
    await waitQueue(client, b, (f) => f.position === null, from);
    expect(queueFrames(client, b, from).at(-1)).toMatchObject({ reason: "admitted" });
    expect(queueFrames(client, d, from).at(-1)).toMatchObject({ position: 1 });
    await client.event(b, "agent.working", from);
    await until(() => promptedWords().length >= 2);
    expect(promptedWords()).toEqual(["alpha", "bravo"]);

    // B's turn ends: D is admitted, streams its answer to the end; C never reached the LLM.
    from = client.frames.length;
    await client.command(b, "abort");
    await waitQueue(client, d, (f) => f.reason === "admitted", from);
    await client.event(d, "agent.idle", from, 60_000);
    const text = client.frames
      .slice(from)
      .filter((f) => f.session_id === d && f.event === "stream.text_delta")
      .map((f) => f.delta)
      .join("");
    expect(text).toBe("delta done");
    expect(promptedWords()).toEqual(["alpha", "bravo", "delta"]);

    // Nothing generates or waits any more.
    const after = (await (await admission()).json()) as AdminAdmission;
    expect(after.queue).toEqual([]);
    expect(after.generating).toEqual([]);
  }, 120_000);

  test("prompt and abort of a generating session go straight to its runner", async () => {
    stack.fakeLlm.script([{ match: "echo", text: ["echo ", "back"] }]);
    const e = await createSession();
    const from = client.frames.length;
    const res = await client.command(e, "prompt", { message: "echo" });
    expect(res.success).toBe(true);
    expect(res.data).toBeUndefined();
    await client.event(e, "agent.idle", from, 60_000);
    expect(queueFrames(client, e, from)).toEqual([]);
  }, 60_000);
});
