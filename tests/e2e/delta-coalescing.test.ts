/**
 * A browser that falls behind gets its queued deltas coalesced (PROTOCOL.md §2.4, "Coalescing"):
 * fewer frames, the same text byte for byte, the same order, nothing dropped. Real path: a raw
 * WebSocket that stops reading -> oqto serve -> oqto runner -> pi -> fake LLM.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { RawWebSocket } from "../helpers/raw-ws.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** Text with multi-byte UTF-8 (two, three and four bytes), emoji, newlines and JSON escapes. */
const TEXT_CHUNKS = Array.from(
  { length: 1200 },
  (_, i) => `${i}: Grüße 🌍🚀 日本語 "q" \\ é\n${i % 7 === 0 ? "\u2028👩‍👩‍👧" : ""}`,
);
const THINKING_CHUNKS = Array.from({ length: 300 }, (_, i) => `think ${i} ✓ `);
const MORE_TEXT = Array.from({ length: 300 }, (_, i) => `after tool ${i} — ok\n`);
const TOOL_COMMAND = `echo '${"ünïcode 😀 ".repeat(40)}'`;

type Event = Frame & { seq: number; seq_from?: number; event: string; delta?: string };

/** What joins a delta to its block: the merge key of the relay. */
const blockOf = (f: Event) =>
  JSON.stringify([f.event, f.message_id, f.content_index, (f.tool_call_id as string | undefined) ?? null]);

test("Coalescing keeps text and order byte-exact under a slow consumer", async () => {
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "coalesce" }),
  });
  const { path } = (await res.json()) as { path: string };
  const healthy = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  const created = await healthy.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: path, provider: "fake", model: "fake-model-2" },
  });
  expect(created.success).toBe(true);

  const port = Number(new URL(stack.baseUrl).port);
  const slow = await RawWebSocket.connect(port, `/api/ws/mux?token=${encodeURIComponent(stack.admin.token)}`);
  slow.send(JSON.stringify({ channel: "agent", id: "sub", session_id: sessionId, cmd: "session.subscribe" }));
  const subDeadline = Date.now() + 10_000;
  while (!slow.frames.some((f) => f.includes('"id":"sub"')) && Date.now() < subDeadline) await Bun.sleep(20);
  slow.pause();

  // First about 5.6 MB of tool output (accumulated ~50 KB progress events): loopback holds some 4 MB
  // unread, the rest is backlog in serve, under the 8 MiB slow-consumer bound. Everything after it
  // (the deltas) waits in serve's queue for the slow socket.
  const flood = "for i in $(seq 1 28); do yes 0123456789abcdef | head -c 50000; echo; sleep 0.1; done";
  stack.fakeLlm.script([
    {
      toolCalls: Array.from({ length: 4 }, (_, i) => ({
        id: `fill${i}`,
        name: "bash",
        arguments: { command: flood },
      })),
    },
    {
      reasoning: THINKING_CHUNKS,
      text: TEXT_CHUNKS,
      toolCalls: [{ id: "echo1", name: "bash", arguments: { command: TOOL_COMMAND } }],
    },
    { text: MORE_TEXT },
  ]);
  const from = healthy.frames.length;
  expect((await healthy.command(sessionId, "prompt", { message: "fill, then talk" })).success).toBe(true);
  const idle = (await healthy.event(sessionId, "agent.idle", from, 120_000)) as Event;

  slow.resume();
  const isLast = (f: string) => f.includes('"event":"agent.idle"') && f.includes(`"seq":${idle.seq},`);
  const readDeadline = Date.now() + 60_000;
  while (!slow.frames.some(isLast) && Date.now() < readDeadline) await Bun.sleep(50);

  const slowEvents = slow.frames
    .map((f) => JSON.parse(f) as Event)
    .filter((f) => f.channel === "agent" && f.session_id === sessionId && f.event !== "response");
  expect(slowEvents.some((f) => f.event === "stream.resync_required")).toBe(false);
  expect(slowEvents.at(-1)?.seq).toBe(idle.seq);

  // The fast consumer got every event on its own: consecutive seqs, nothing coalesced.
  const all = healthy.events(sessionId) as Event[];
  expect(all.map((f) => f.seq)).toEqual(Array.from({ length: all.length }, (_, i) => (all[0]?.seq ?? 0) + i));
  expect(all.some((f) => f.seq_from !== undefined)).toBe(false);
  const bySeq = new Map(all.map((f) => [f.seq, f]));

  // The slow one: seqs strictly increasing, seq_from..seq ranges tile the stream with no gap or overlap,
  // each coalesced frame the concatenation of the deltas it stands for, every other frame unchanged.
  let next = slowEvents[0]?.seq_from ?? slowEvents[0]?.seq ?? 0;
  for (const frame of slowEvents) {
    const first = frame.seq_from ?? frame.seq;
    expect(first).toBe(next);
    expect(frame.seq).toBeGreaterThanOrEqual(first);
    next = frame.seq + 1;
    const covered = Array.from({ length: frame.seq - first + 1 }, (_, i) => bySeq.get(first + i) as Event);
    if (frame.seq_from === undefined) {
      expect(frame).toEqual(covered[0] as Event);
      continue;
    }
    expect(frame.seq_from).toBeLessThan(frame.seq);
    for (const event of covered) expect(blockOf(event)).toBe(blockOf(frame));
    expect(frame.delta).toBe(covered.map((e) => e.delta).join(""));
    const { seq_from: _from, delta: _delta, ...rest } = frame;
    const { delta: _lastDelta, ...last } = covered.at(-1) as Event;
    expect(rest).toEqual(last);
  }

  // Fewer frames than events, and the text of each kind of block exactly what the LLM sent.
  const coveredEvents = all.filter((f) => f.seq >= (slowEvents[0]?.seq_from ?? slowEvents[0]?.seq ?? 0));
  expect(slowEvents.length).toBeLessThan(coveredEvents.length);
  const joined = (events: Event[], event: string) =>
    events
      .filter((f) => f.event === event)
      .map((f) => f.delta)
      .join("");
  expect(joined(slowEvents, "stream.text_delta")).toBe(TEXT_CHUNKS.join("") + MORE_TEXT.join(""));
  expect(joined(slowEvents, "stream.thinking_delta")).toBe(THINKING_CHUNKS.join(""));
  const args = slowEvents
    .filter((f) => f.event === "stream.tool_call_delta" && f.tool_call_id === "echo1")
    .map((f) => f.delta)
    .join("");
  expect(JSON.parse(args)).toEqual({ command: TOOL_COMMAND });
  const coalesced = slowEvents.filter((f) => f.seq_from !== undefined);
  for (const kind of ["stream.text_delta", "stream.thinking_delta", "stream.tool_call_delta"])
    expect(coalesced.some((f) => f.event === kind)).toBe(true);
  // Non-delta events keep their places: the same sequence of them in both streams.
  const nonDelta = (events: Event[]) => events.filter((f) => !f.event.endsWith("_delta")).map((f) => f.seq);
  expect(nonDelta(slowEvents)).toEqual(nonDelta(coveredEvents));

  // A client that resumes after a coalesced frame's seq gets the rest replayed, no resync.
  const resumeAt = coalesced.at(-1) as Event;
  const again = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sub = await again.command(sessionId, "session.subscribe", { after_seq: resumeAt.seq });
  expect(sub.success).toBe(true);
  expect((sub.data as { resync_required: boolean }).resync_required).toBe(false);
  await again.waitFor((f) => f.session_id === sessionId && f.seq === idle.seq && f.event === "agent.idle");
  const replayed = again.events(sessionId) as Event[];
  expect(replayed.map((f) => f.seq)).toEqual(all.filter((f) => f.seq > resumeAt.seq).map((f) => f.seq));

  again.close();
  slow.close();
  healthy.close();
}, 180_000);
