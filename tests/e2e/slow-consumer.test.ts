/**
 * A browser that stops reading must not grow the server's memory or hold up anyone else: the
 * server stops sending it agent events past 8 MiB of backlog and, once it drains, tells it to
 * resync (PROTOCOL.md §2.6).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { RawWebSocket } from "../helpers/raw-ws.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

test("a slow consumer is cut off and told to resync while a healthy client gets everything", async () => {
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "flood" }),
  });
  const { path } = (await res.json()) as { path: string };
  const healthy = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  expect(
    (await healthy.command(sessionId, "session.create", { config: { harness: "pi", cwd: path } })).success,
  ).toBe(true);

  const port = Number(new URL(stack.baseUrl).port);
  const slow = await RawWebSocket.connect(port, `/api/ws/mux?token=${encodeURIComponent(stack.admin.token)}`);
  slow.send(JSON.stringify({ channel: "agent", id: "sub", session_id: sessionId, cmd: "session.subscribe" }));
  const deadline = Date.now() + 10_000;
  while (!slow.frames.some((f) => f.includes('"id":"sub"')) && Date.now() < deadline) await Bun.sleep(20);
  slow.pause();

  // Each progress event carries the accumulated, tail-truncated (~50 KB) output, at most ten per second
  // per tool: eight tools in parallel for six seconds push about 24 MB through the relay.
  const command = "for i in $(seq 1 60); do yes 0123456789abcdef | head -c 50000; echo; sleep 0.1; done";
  const toolCalls = Array.from({ length: 8 }, (_, i) => ({
    id: `flood${i}`,
    name: "bash",
    arguments: { command },
  }));
  stack.fakeLlm.script([{ toolCalls }, { text: "flooded" }]);
  const from = healthy.frames.length;
  await healthy.command(sessionId, "prompt", { message: "flood the pipes" });
  await healthy.event(sessionId, "agent.idle", from, 120_000);
  const events = healthy.events(sessionId);
  const seqs = events.map((f) => f.seq as number);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
  const progressBytes = events
    .filter((f) => f.event === "tool.progress")
    .reduce((sum, f) => sum + String(f.partial_output).length, 0);
  expect(progressBytes).toBeGreaterThan(16 * 1024 * 1024);

  slow.resume();
  const resyncDeadline = Date.now() + 30_000;
  const isResync = (f: string) =>
    f.includes('"event":"stream.resync_required"') && f.includes('"slow_consumer"');
  while (!slow.frames.some(isResync) && Date.now() < resyncDeadline) await Bun.sleep(50);
  const resync = JSON.parse(slow.frames.find(isResync) as string) as {
    dropped_count: number;
    session_id: string;
  };
  expect(resync.session_id).toBe(sessionId);
  expect(resync.dropped_count).toBeGreaterThan(0);
  const slowAgentEvents = slow.frames.filter(
    (f) => f.includes(`"session_id":"${sessionId}"`) && f.includes('"seq"'),
  );
  expect(slowAgentEvents.length).toBeLessThan(events.length);
  slow.close();
  healthy.close();
}, 180_000);
