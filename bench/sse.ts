/**
 * SSE against the WebSocket (issue 16): the same sessions, the same deltas, both transports at once.
 * The whole product in single-user mode (tests/helpers/stack.ts: serve, runner, history, one real pi
 * per session), the scripted fake LLM streaming K text deltas D ms apart to N sessions; one
 * WebSocket client subscribed to every session and, next to it, one Server-Sent Events stream per
 * session (`GET /api/sessions/:id/events`, as a script would follow it). The fake and both clients
 * run in this process, so send and receive times are on one clock.
 *
 * Per delta: fake sent → received over each transport (p50 / p99), and what SSE adds on top of the
 * WebSocket for the same delta (its SSE arrival minus its WebSocket arrival). Every delta is checked
 * on both transports: delivered once, in order, the text intact.
 *
 *   bun bench/sse.ts [--sessions 1,10,20] [--deltas 200] [--delay-ms 10]
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { startStack } from "../tests/helpers/stack.ts";
import { BenchMuxClient } from "./bench-mux-client.ts";
import {
  deltaText,
  f1,
  f2,
  pair,
  percentile,
  type StreamResult,
  summarise,
  Track,
} from "./delta-tracking.ts";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "1,10,20" },
    deltas: { type: "string", default: "200" },
    "delay-ms": { type: "string", default: "10" },
  },
});
const SESSION_COUNTS = String(values.sessions)
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const K = Number(values.deltas);
const D = Number(values["delay-ms"]);
if (SESSION_COUNTS.length === 0 || !(K > 0) || !(D >= 0)) {
  console.error("usage: bun bench/sse.ts [--sessions 1,10,20] [--deltas 200] [--delay-ms 10]");
  process.exit(2);
}
const progress = (message: string) => console.error(`[sse] ${message}`);

const stack = await startStack({
  runnerConfig: `max_sessions = ${Math.max(32, Math.max(...SESSION_COUNTS) + 2)}\npool_size = 2`,
  extraConfig: "[admission]\nmax_generating_sessions = 0\n",
});
const fake = stack.fakeLlm;
const auth = { authorization: `Bearer ${stack.admin.token}` };

/** One session's SSE stream: text deltas fed to a track as each chunk arrives; resolves at agent.idle. */
async function followSse(sessionId: string, track: Track, opened: () => void): Promise<void> {
  const response = await fetch(`${stack.baseUrl}/api/sessions/${sessionId}/events`, { headers: auth });
  if (response.status !== 200 || !response.body) {
    throw new Error(`SSE ${sessionId}: ${response.status} ${await response.text()}`);
  }
  opened();
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    const at = performance.now();
    buffered += decoder.decode(chunk, { stream: true });
    for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
      const message = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = message.split("\n").find((field) => field.startsWith("data: "));
      if (!data || message.startsWith("event:")) continue;
      const event = JSON.parse(data.slice(6)) as { event?: string; delta?: unknown };
      if (event.event === "stream.text_delta" && typeof event.delta === "string") track.feed(event.delta, at);
      // Leaving the loop cancels the stream (the async iterator's return).
      if (event.event === "agent.idle") return;
    }
  }
  throw new Error(`SSE ${sessionId}: the stream ended before agent.idle`);
}

/** Per delta, its SSE arrival minus its WebSocket arrival, ms. */
function sseMinusWs(ws: Track[], sse: Track[]): number[] {
  const out: number[] = [];
  ws.forEach((wsTrack, index) => {
    const wsAt = new Map<number, number>();
    for (const { i, at } of wsTrack.arrivals) if (!wsAt.has(i)) wsAt.set(i, at);
    const seen = new Set<number>();
    for (const { i, at } of (sse[index] as Track).arrivals) {
      const other = wsAt.get(i);
      if (seen.has(i) || other === undefined) continue;
      seen.add(i);
      out.push(at - other);
    }
  });
  return out;
}

interface Round {
  n: number;
  ws: StreamResult;
  sse: StreamResult;
  difference: number[];
}

let nextSessionNumber = 1;

async function round(client: BenchMuxClient, workspace: string, n: number): Promise<Round> {
  const sessions = Array.from({ length: n }, () => ({
    number: nextSessionNumber++,
    id: `oqto-${Bun.randomUUIDv7()}`,
  }));
  for (const res of await Promise.all(
    sessions.map(({ id }) =>
      client.command(id, "session.create", { config: { harness: "pi", cwd: workspace } }),
    ),
  )) {
    if (!res.success) throw new Error(`session.create: ${JSON.stringify(res)}`);
  }
  const wsTracks = sessions.map(({ number, id }) => {
    const track = new Track(number, K);
    client.tracks.set(id, track);
    return track;
  });
  const sseTracks = sessions.map(({ number }) => new Track(number, K));
  let openStreams = 0;
  const sseDone = sessions.map(({ id }, index) =>
    followSse(id, sseTracks[index] as Track, () => {
      openStreams++;
    }),
  );
  while (openStreams < n) await Bun.sleep(10);
  // The stream subscribes once its response headers are out; give the last subscription a moment.
  await Bun.sleep(200);

  fake.timeTextDeltas(true);
  fake.script(
    sessions.map(({ number }) => ({
      match: `sse-${number}-go`,
      text: Array.from({ length: K }, (_, i) => deltaText(number, i)),
      delayMs: D,
    })),
  );
  const idle = sessions.map(({ id }) => client.nextIdle(id));
  const prompts = sessions.map(({ number, id }, index) => {
    const started = performance.now();
    (wsTracks[index] as Track).startedAt = started;
    (sseTracks[index] as Track).startedAt = started;
    return client.command(id, "prompt", { message: `sse-${number}-go` });
  });
  for (const res of await Promise.all(prompts)) {
    if (!res.success) throw new Error(`prompt: ${JSON.stringify(res)}`);
  }
  await Promise.all([...idle, ...sseDone]);
  const sentAt = (text: string) => fake.textDeltaSentAt(text);
  const result = {
    n,
    ws: summarise(wsTracks, sentAt),
    sse: summarise(sseTracks, sentAt),
    difference: sseMinusWs(wsTracks, sseTracks),
  };
  fake.timeTextDeltas(false);
  for (const { id } of sessions) client.tracks.delete(id);
  await Promise.all(sessions.map(({ id }) => client.command(id, "session.close")));
  fake.reset();
  return result;
}

const rows: Round[] = [];
try {
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench" }),
  });
  if (created.status !== 201) throw new Error(`workspace: ${created.status} ${await created.text()}`);
  const workspace = ((await created.json()) as { path: string }).path;
  const client = await BenchMuxClient.connect(stack.wsUrl, stack.admin.token);
  progress("warm-up: one session, one turn over both transports …");
  await round(client, workspace, 1);
  for (const n of SESSION_COUNTS) {
    progress(`${n} session(s) …`);
    const row = await round(client, workspace, n);
    rows.push(row);
    progress(`  SSE − WebSocket p50 ${f2(percentile(row.difference, 50))} ms`);
  }
  client.ws.close();
} finally {
  await stack.stop();
}

const delivery = (s: StreamResult, n: number) =>
  `${s.received} / ${n * K} · ${s.lost} / ${s.duplicated} / ${s.reordered} · ${s.intactSessions} of ${n}`;
const out = [
  `\nSSE against the WebSocket: ${K} text deltas ${D} ms apart per session, real pi per session; one WebSocket for all sessions and one SSE stream per session, both following the same sessions at once`,
  `machine: ${cpus().length} cores, ${f1(totalmem() / 2 ** 30)} GiB; Bun ${Bun.version}`,
  "",
  "Per delta, fake LLM sent → client received, ms, p50 / p99; delivery: received / sent · lost / duplicated / reordered · text intact",
  "",
  "| sessions | WebSocket | SSE | SSE − WebSocket, same delta | WebSocket delivery | SSE delivery |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    ({ n, ws, sse, difference }) =>
      `| ${n} | ${pair(ws.latencies)} | ${pair(sse.latencies)} | ${pair(difference)} | ${delivery(ws, n)} | ${delivery(sse, n)} |`,
  ),
];
console.log(out.join("\n"));
process.exit(0);
