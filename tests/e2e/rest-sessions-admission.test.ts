/**
 * Admission applies to REST prompts as to the WebSocket's (PROTOCOL.md §2.2.1): with one generating
 * session allowed, a second session's prompt is accepted at once with its queue position, its event
 * stream carries the queue as `event: queue` messages, and its turn starts when the first one ends.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SseClient } from "../helpers/sse-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let auth: Record<string, string>;

function post(path: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    method: "POST",
    headers: auth,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function createSession(): Promise<string> {
  const res = await post("/api/sessions", { workspace: "main" });
  expect(res.status).toBe(201);
  return ((await res.json()) as { session_id: string }).session_id;
}

beforeAll(async () => {
  stack = await startStack({ extraConfig: "[admission]\nmax_generating_sessions = 1\n" });
  auth = { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" };
  expect((await post("/api/workspaces", { name: "main" })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 15_000);

test("a prompt beyond the limit is queued (202 with its position) and runs when the slot frees", async () => {
  const first = await createSession();
  const second = await createSession();
  const firstEvents = await SseClient.open(`${stack.baseUrl}/api/sessions/${first}/events`, auth);
  const secondEvents = await SseClient.open(`${stack.baseUrl}/api/sessions/${second}/events`, auth);
  await stack.fakeLlm.script([
    { match: "alpha", text: Array.from({ length: 60 }, (_, i) => `a${i} `), delayMs: 20 },
    { match: "bravo", text: "second turn" },
  ]);
  const running = await post(`/api/sessions/${first}/prompt`, { message: "alpha" });
  expect(running.status).toBe(202);
  expect(((await running.json()) as { queued?: unknown }).queued).toBeUndefined();
  await firstEvents.event("stream.text_delta");

  const queued = await post(`/api/sessions/${second}/prompt`, { message: "bravo" });
  expect(queued.status).toBe(202);
  const body = (await queued.json()) as { command_id: string; queued?: { position: number } };
  expect(body.queued?.position).toBe(1);
  const waiting = await secondEvents.waitFor((m) => m.event === "queue" && m.json.position === 1);
  expect(waiting.id).toBeUndefined();
  expect(waiting.json.session_id).toBe(second);
  // A second prompt to a queued session is refused as over the WebSocket: 409.
  expect((await post(`/api/sessions/${second}/prompt`, { message: "bravo again" })).status).toBe(409);

  await firstEvents.event("agent.idle", 60_000);
  await secondEvents.waitFor((m) => m.event === "queue" && m.json.reason === "admitted", 30_000);
  await secondEvents.event("agent.idle", 60_000);
  const text = secondEvents
    .events()
    .filter((e) => e.event === "stream.text_delta")
    .map((e) => e.delta)
    .join("");
  expect(text).toBe("second turn");
  firstEvents.close();
  secondEvents.close();
});
