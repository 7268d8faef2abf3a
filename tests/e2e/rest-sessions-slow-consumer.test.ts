/**
 * An SSE client that stops reading gets the WebSocket's slow-consumer policy (PROTOCOL.md §2.6,
 * §4.5): past 8 MiB of backlog its events are dropped, not queued without bound, and once it reads
 * again it is told to resync, while a healthy stream of the same session gets every event. The
 * slow client is a real `curl -N`, stopped with SIGSTOP so that it leaves its socket unread.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SseClient } from "../helpers/sse-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { until } from "../helpers/wait.ts";

let stack: Stack;
let auth: Record<string, string>;

beforeAll(async () => {
  stack = await startStack();
  auth = { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" };
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "flood" }),
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 15_000);

test("a stream that stops reading is cut off and told to resync; a healthy one gets everything", async () => {
  const created = await fetch(`${stack.baseUrl}/api/sessions`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ workspace: "flood" }),
  });
  const { session_id: sessionId } = (await created.json()) as { session_id: string };
  const url = `${stack.baseUrl}/api/sessions/${sessionId}/events`;
  const healthy = await SseClient.open(url, auth);
  const slow = Bun.spawn(["curl", "-N", "-sS", "-H", `Authorization: ${auth.authorization}`, url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const output: string[] = [];
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of slow.stdout) output.push(decoder.decode(chunk, { stream: true }));
  })();
  await until("curl's stream to open", () => (output.join("").includes(": subscribed") ? true : undefined));
  slow.kill("SIGSTOP");

  // As in the WebSocket's test: eight tools of accumulated ~50 KB progress for six seconds, ~24 MB.
  const command = "for i in $(seq 1 60); do yes 0123456789abcdef | head -c 50000; echo; sleep 0.1; done";
  const toolCalls = Array.from({ length: 8 }, (_, i) => ({
    id: `flood${i}`,
    name: "bash",
    arguments: { command },
  }));
  await stack.fakeLlm.script([{ toolCalls }, { text: "flooded" }]);
  const prompted = await fetch(`${stack.baseUrl}/api/sessions/${sessionId}/prompt`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ message: "flood the pipes" }),
  });
  expect(prompted.status).toBe(202);
  await healthy.event("agent.idle", 120_000);
  const seqs = healthy.events().map((e) => e.seq as number);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
  const progressBytes = healthy
    .events()
    .filter((e) => e.event === "tool.progress")
    .reduce((sum, e) => sum + String(e.partial_output).length, 0);
  expect(progressBytes).toBeGreaterThan(16 * 1024 * 1024);

  slow.kill("SIGCONT");
  const resyncLine = await until(
    "the slow stream's resync",
    () =>
      output
        .join("")
        .split("\n")
        .find((line) => line.includes('"stream.resync_required"') && line.includes('"slow_consumer"')),
    30_000,
  );
  const resync = JSON.parse(resyncLine.slice("data: ".length)) as {
    session_id: string;
    dropped_count: number;
  };
  expect(resync.session_id).toBe(sessionId);
  expect(resync.dropped_count).toBeGreaterThan(0);
  const slowEvents = output
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("id: "));
  expect(slowEvents.length).toBeLessThan(seqs.length);
  slow.kill();
  await slow.exited;
  await reading;
  healthy.close();
}, 180_000);
