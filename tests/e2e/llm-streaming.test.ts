/**
 * LLM streaming through the whole product: fake LLM -> Oqto's key-custody gateway (on serve's port)
 * -> pi -> runner -> serve -> WebSocket. A slowly dripping answer reaches the client delta by delta as
 * the provider sends it (nothing on the way holds chunks back), and aborting the turn cancels the
 * provider's request (the gateway passes pi's disconnect on upstream).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** Twelve distinct deltas (the fake keys its send times by text), one every DRIP_MS. */
const DRIP = Array.from({ length: 12 }, (_, i) => `drip-${String(i).padStart(2, "0")} `);
const DRIP_MS = 250;
/** No delta may reach the client later than this after the fake sent it. */
const MAX_LAG_MS = 150;

let stack: Stack;
let client: MuxClient;
let workspace: string;
/** When each frame reached this process (`performance.now()`, the fake LLM's clock too). */
const arrivals = new WeakMap<Frame, number>();

async function createSession(): Promise<string> {
  const sessionId = newSessionId();
  const res = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: workspace },
  });
  expect(res.success).toBe(true);
  return sessionId;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

beforeAll(async () => {
  stack = await startStack();
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "main" }),
  });
  expect(res.status).toBe(201);
  workspace = ((await res.json()) as { path: string }).path;
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  // Registered after MuxClient's own listener, so the frame just received is the last one it recorded.
  client.ws.addEventListener("message", () => {
    const frame = client.frames.at(-1);
    if (frame) arrivals.set(frame, performance.now());
  });
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe("LLM streaming through the gateway", () => {
  test("a slowly dripping answer reaches the client delta by delta, as the provider sends it", async () => {
    const sessionId = await createSession();
    stack.fakeLlm.timeTextDeltas(true);
    try {
      stack.fakeLlm.script([{ text: DRIP, delayMs: DRIP_MS }]);
      const exchangesBefore = stack.fakeLlm.exchanges().length;
      const from = client.frames.length;
      const res = await client.command(sessionId, "prompt", { message: "drip slowly" });
      expect(res.success).toBe(true);
      await client.event(sessionId, "agent.idle", from, 60_000);

      // It went through the gateway: the fake got the provider's real key, which pi never has.
      const exchange = stack.fakeLlm.exchanges()[exchangesBefore];
      expect(exchange?.headers.authorization).toBe("Bearer fake-key");

      const deltas = client.frames
        .slice(from)
        .filter((f) => f.session_id === sessionId && f.event === "stream.text_delta");
      expect(deltas.map((f) => f.delta)).toEqual(DRIP);
      const timings = deltas.map((frame) => {
        const sent = stack.fakeLlm.textDeltaSentAt(frame.delta as string);
        const received = arrivals.get(frame);
        if (sent === undefined || received === undefined) throw new Error(`no timing for ${frame.delta}`);
        return { delta: frame.delta as string, sent, received, lag: received - sent };
      });
      const late = timings.filter((t) => t.lag > MAX_LAG_MS || t.lag < 0);
      expect(late).toEqual([]);
      // The fake really dripped (nothing was sent in a burst), and the client saw the first delta
      // long before the last one was even sent: no chunk was held back until the end.
      const first = timings[0] as (typeof timings)[number];
      const last = timings.at(-1) as (typeof timings)[number];
      expect(last.sent - first.sent).toBeGreaterThanOrEqual((DRIP.length - 1) * DRIP_MS - 50);
      expect(first.received).toBeLessThan(last.sent - (DRIP.length - 2) * DRIP_MS);
      for (let i = 1; i < timings.length; i++) {
        const gap =
          (timings[i] as (typeof timings)[number]).received - (timings[i - 1] as typeof first).received;
        expect(gap).toBeGreaterThan(DRIP_MS - MAX_LAG_MS);
      }
    } finally {
      stack.fakeLlm.timeTextDeltas(false);
    }
  });

  test("aborting the turn cancels the provider's request", async () => {
    const sessionId = await createSession();
    stack.fakeLlm.script([{ hang: true }]);
    const exchangesBefore = stack.fakeLlm.exchanges().length;
    const abortsBefore = stack.fakeLlm.streamAborts().length;
    const from = client.frames.length;
    const res = await client.command(sessionId, "prompt", { message: "hang on" });
    expect(res.success).toBe(true);
    // The provider is streaming (it sent its first chunk and now waits): the request is open end to end.
    await until(
      () => (stack.fakeLlm.exchanges()[exchangesBefore]?.response.byteLength ?? 0) > 0,
      30_000,
      "the fake's first chunk",
    );
    expect(stack.fakeLlm.streamAborts().length).toBe(abortsBefore);

    const abortedAt = performance.now();
    const abort = await client.command(sessionId, "abort");
    expect(abort.success).toBe(true);
    expect((abort.data as { was_running: boolean }).was_running).toBe(true);
    await until(
      () => stack.fakeLlm.streamAborts().length > abortsBefore,
      5_000,
      "the fake's request to abort",
    );
    const cancelledAt = stack.fakeLlm.streamAborts()[abortsBefore] as number;
    expect(cancelledAt - abortedAt).toBeLessThan(2_000);

    await client.event(sessionId, "agent.idle", from, 10_000);
    const ends = client.frames
      .slice(from)
      .filter((f) => f.session_id === sessionId && f.event === "stream.message_end");
    expect((ends.at(-1)?.message as { stop_reason?: string } | undefined)?.stop_reason).toBe("aborted");
    const sent = new TextDecoder().decode(stack.fakeLlm.exchanges()[exchangesBefore]?.response);
    expect(sent).not.toContain("[DONE]");

    // The session goes on: the next turn streams normally.
    stack.fakeLlm.script([{ text: "after the abort" }]);
    const next = client.frames.length;
    await client.command(sessionId, "prompt", { message: "still there?" });
    await client.event(sessionId, "agent.idle", next, 30_000);
    const text = client.frames
      .slice(next)
      .filter((f) => f.session_id === sessionId && f.event === "stream.text_delta")
      .map((f) => f.delta)
      .join("");
    expect(text).toBe("after the abort");
  });
});
