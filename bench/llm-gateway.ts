/**
 * LLM gateway benchmark: how much does Oqto's key-custody gateway add between a provider and pi?
 *
 * The scripted fake provider (tests/fixtures/fake-llm.ts, OpenAI Chat Completions SSE) and the clients
 * run in this process, so each text delta's send time (the fake's) and read time (the client's) are on
 * one clock. The gateway (the real LlmGateway with its store, token registry, limits and usage
 * recording, on its own Bun server: tests/server/llm-gateway/gateway-harness.ts) runs in a child
 * process, as it runs inside serve. A second child is a bare relay (a fetch to the provider and its
 * body passed on chunk by chunk as the gateway passes it: no checks, no key, no meter), the floor of any
 * proxy in its own process: the gateway's own work is what it adds above that. Every measure is taken
 * in the same run, rounds of the paths interleaved (the order rotates each round):
 *
 *   1. streams read by this process (no pi), 1 and 50 at once. Time to first token: request sent →
 *      first content delta read, of a one-delta answer the fake sends at once, one request after
 *      another (beside 49 paced streams on the same path, for 50). Per-chunk latency: fake sent →
 *      client read, of answers paced at one delta every --pace ms (50 streams started spread over one
 *      interval, as independent users' are). Worst cases beside them: 50 requests sent at the same
 *      instant, and 50 streams whose deltas all go out at the same instants.
 *   2. real pi (RPC mode) talking to the fake directly, through the bare relay and through the gateway:
 *      prompt → pi's first text_delta event (the fake waits --pace ms before its first two chunks), and
 *      fake sent → pi's text_delta event.
 *
 *   bun bench/llm-gateway.ts [--streams 1,50] [--deltas 30] [--pace 10] [--pi-turns 30]
 */
import { parseArgs } from "node:util";
import { buildModelsJson } from "../src/llm/models-json.ts";
import { LLM_TOKEN_ENV } from "../src/protocol/llm.ts";
import { FAKE_MODEL, FAKE_PROVIDER, type FakeLlm, startFakeLlm } from "../tests/fixtures/fake-llm.ts";
import { startGateway } from "../tests/server/llm-gateway/gateway-harness.ts";
import { PiOnFake } from "../tests/server/llm-gateway/pi-on-fake.ts";

const REAL_KEY = "sk-bench-real-provider-key";

// ---- child modes: the gateway, and the bare relay, each in its own process ----------------------------

/** Lives until the parent closes our stdin (or goes away). */
async function untilStdinEnds(): Promise<void> {
  for await (const _ of Bun.stdin.stream()) {
    // nothing to read
  }
}

if (process.argv[2] === "--serve-gateway") {
  const gw = startGateway();
  const user = gw.addUser("bench");
  gw.addProvider({
    name: FAKE_PROVIDER,
    api: "openai-completions",
    base_url: process.argv[3] as string,
    api_key: REAL_KEY,
    models: [{ id: FAKE_MODEL, price: { input: 2, output: 10 } }],
  });
  const token = gw.session(user, "oqto-bench-gateway");
  console.log(JSON.stringify({ base: `${gw.base}/${FAKE_PROVIDER}`, credential: token }));
  await untilStdinEnds();
  await gw.stop();
  process.exit(0);
}

if (process.argv[2] === "--serve-relay") {
  const upstream = process.argv[3] as string;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname.replace(/^\/relay/, "");
      const response = await fetch(`${upstream}${path}`, {
        method: request.method,
        headers: { "content-type": "application/json", authorization: `Bearer ${REAL_KEY}` },
        body: await request.arrayBuffer(),
        signal: request.signal,
      });
      if (!response.body) return new Response(null, { status: response.status });
      const reader = response.body.getReader();
      // The gateway's way of passing a body on (metered-body.ts), without the meter.
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const result = await reader.read();
            if (result.done) controller.close();
            else controller.enqueue(result.value);
          },
          cancel: (reason) => reader.cancel(reason),
        },
        { highWaterMark: 0 },
      );
      return new Response(body, {
        status: response.status,
        headers: { "content-type": "text/event-stream" },
      });
    },
  });
  console.log(JSON.stringify({ base: `http://127.0.0.1:${server.port}/relay`, credential: "none" }));
  await untilStdinEnds();
  await server.stop(true);
  process.exit(0);
}

// ---- the parameters ------------------------------------------------------------------------------------

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "1,50" },
    deltas: { type: "string", default: "30" },
    pace: { type: "string", default: "10" },
    "pi-turns": { type: "string", default: "30" },
  },
});
const CONCURRENCY = String(values.streams).split(",").map(Number);
const DELTAS = Number(values.deltas);
const PACE_MS = Number(values.pace);
const PI_TURNS = Number(values["pi-turns"]);
/** Samples per path: enough for a p99 (time-to-first-token requests; deltas of paced streams). */
const TTFT_SAMPLES = 400;
const CHUNK_SAMPLES = 900;
/** Time-to-first-token requests per round (one after the other). */
const PROBES = 50;
/** At least this many rounds per path: the added p50 is the median of the rounds' differences. */
const MIN_ROUNDS = 8;

// ---- measurement helpers -------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Stats {
  n: number;
  p50: number;
  p99: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

type PathName = "direct" | "relay" | "gateway";

interface Path {
  name: PathName;
  /** The base URL `chat/completions` is below. */
  base: string;
  /** What goes into `authorization: Bearer`: the real key direct, the session token through the gateway. */
  credential: string;
}

interface Streamed {
  startedAt: number;
  deltas: Array<{ text: string; at: number }>;
}

/** One streaming chat completion as pi's client sends it; each content delta with the time it was read. */
async function stream(
  path: Path,
  tag: string,
  signal?: AbortSignal,
  onFirstDelta?: () => void,
): Promise<Streamed> {
  const startedAt = performance.now();
  const response = await fetch(`${path.base}/chat/completions`, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "content-type": "application/json", authorization: `Bearer ${path.credential}` },
    body: JSON.stringify({
      model: FAKE_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: tag }],
    }),
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`${path.name}: HTTP ${response.status} ${await response.text()}`);
  }
  const deltas: Streamed["deltas"] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body) {
    const at = performance.now();
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const record = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      if (!record.startsWith("data: ") || record === "data: [DONE]") continue;
      const parsed = JSON.parse(record.slice(6)) as { choices: Array<{ delta?: { content?: string } }> };
      const text = parsed.choices[0]?.delta?.content;
      if (!text) continue;
      if (deltas.length === 0) onFirstDelta?.();
      deltas.push({ text, at });
    }
  }
  return { startedAt, deltas };
}

let tagCounter = 0;
/** A marker the fake matches its step by, unique in the run (`<t17>` is not found in `<t170>`). */
const nextTag = () => `<t${++tagCounter}>`;

/** The time to first token of one request whose answer (one delta) the fake sends at once. */
async function ttft(fake: FakeLlm, path: Path): Promise<number> {
  const tag = nextTag();
  fake.script([{ match: tag, text: [`${tag}:first`] }]);
  const { deltas, startedAt } = await stream(path, tag);
  const first = deltas[0];
  if (!first) throw new Error(`${path.name}: no content delta`);
  return first.at - startedAt;
}

/**
 * `count` streams in flight on `path`: `count - 1` long paced streams as the load (started spread over
 * one pace interval, each once the previous ones stream), and `probes` time-to-first-token requests one
 * after the other beside them.
 */
async function ttftUnderLoad(fake: FakeLlm, path: Path, count: number, probes: number): Promise<number[]> {
  const abort = new AbortController();
  const background = Array.from({ length: count - 1 }, async (_, i) => {
    await Bun.sleep((i * PACE_MS) / Math.max(1, count - 1));
    const tag = nextTag();
    fake.script([{ match: tag, text: Array.from({ length: 5_000 }, () => "·"), delayMs: PACE_MS }]);
    let streaming: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      streaming = resolve;
    });
    // Wrapped: an async function returning the promise itself would wait for the stream's end.
    const running = { done: stream(path, tag, abort.signal, streaming).catch(() => {}) };
    await started;
    return running;
  });
  const running = await Promise.all(background);
  const samples: number[] = [];
  for (let i = 0; i < probes; i++) samples.push(await ttft(fake, path));
  abort.abort();
  await Promise.all(running.map((r) => r.done));
  return samples;
}

/** `count` simultaneous requests on `path` (a burst): each one's time to first token. */
function ttftBurst(fake: FakeLlm, path: Path, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => ttft(fake, path)));
}

/**
 * `count` streams at once on `path`, paced; returns every delta's send-to-read latency. Spread: the
 * streams start spread over one pace interval, as independent users' do; else all at the same instant,
 * so that the fake sends `count` deltas at each tick (a worst case).
 */
async function chunkRound(fake: FakeLlm, path: Path, count: number, spread: boolean): Promise<number[]> {
  const tags = Array.from({ length: count }, nextTag);
  fake.script(
    tags.map((tag) => ({
      match: tag,
      text: Array.from({ length: DELTAS }, (_, i) => `${tag}:${i} `),
      delayMs: PACE_MS,
    })),
  );
  const results = await Promise.all(
    tags.map(async (tag, i) => {
      if (spread) await Bun.sleep((i * PACE_MS) / count);
      return stream(path, tag);
    }),
  );
  return results.flatMap((r) => {
    if (r.deltas.length !== DELTAS) throw new Error(`${path.name}: ${r.deltas.length} of ${DELTAS} deltas`);
    return r.deltas.map((d) => {
      const sent = fake.textDeltaSentAt(d.text);
      if (sent === undefined) throw new Error(`no send time for ${d.text}`);
      return d.at - sent;
    });
  });
}

interface Comparison {
  /** Every sample of the path, pooled. */
  stats: Record<PathName, Stats>;
  /**
   * The median over rounds of the round's gateway p50 less its direct (bare relay) p50: a round runs the
   * paths back to back, so load elsewhere on the machine, which comes and goes, cancels out.
   */
  addedP50: number;
  overRelayP50: number;
  rounds: number;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/**
 * Rounds of every path, interleaved (the order rotates each round), until each has `samples` figures
 * (and MIN_ROUNDS rounds).
 */
async function sideBySide(
  paths: Path[],
  samples: number,
  round: (path: Path) => Promise<number[]>,
): Promise<Comparison> {
  const collected: Record<PathName, number[]> = { direct: [], relay: [], gateway: [] };
  const added: number[] = [];
  const overRelay: number[] = [];
  let r = 0;
  for (; r < MIN_ROUNDS || paths.some((p) => collected[p.name].length < samples); r++) {
    const p50: Partial<Record<PathName, number>> = {};
    for (let i = 0; i < paths.length; i++) {
      const path = paths[(r + i) % paths.length] as Path;
      const figures = await round(path);
      collected[path.name].push(...figures);
      p50[path.name] = stats(figures).p50;
    }
    added.push((p50.gateway ?? Number.NaN) - (p50.direct ?? Number.NaN));
    overRelay.push((p50.gateway ?? Number.NaN) - (p50.relay ?? Number.NaN));
  }
  return {
    stats: {
      direct: stats(collected.direct),
      relay: stats(collected.relay),
      gateway: stats(collected.gateway),
    },
    addedP50: median(added),
    overRelayP50: median(overRelay),
    rounds: r,
  };
}

// ---- pi ------------------------------------------------------------------------------------------------

interface PiTurn {
  ttft: number;
  latencies: number[];
}

async function piTurn(fake: FakeLlm, pi: PiOnFake): Promise<PiTurn> {
  const tag = nextTag();
  const texts = Array.from({ length: DELTAS }, (_, i) => `${tag}:${i} `);
  fake.script([{ match: tag, text: texts, delayMs: PACE_MS }]);
  const from = pi.events.length;
  const startedAt = performance.now();
  await pi.prompt(`Answer ${tag}`);
  const deltas: Array<{ text: string; at: number }> = [];
  for (let i = from; i < pi.events.length; i++) {
    const event = pi.events[i];
    if (event?.type !== "message_update" || event.assistantMessageEvent.type !== "text_delta") continue;
    deltas.push({ text: event.assistantMessageEvent.delta ?? "", at: pi.eventTimes[i] as number });
  }
  if (deltas.map((d) => d.text).join("") !== texts.join("")) throw new Error("pi streamed other text");
  return {
    ttft: (deltas[0]?.at ?? Number.NaN) - startedAt,
    latencies: deltas.map((d) => d.at - (fake.textDeltaSentAt(d.text) ?? Number.NaN)),
  };
}

// ---- the run -------------------------------------------------------------------------------------------

const fake = await startFakeLlm();
fake.timeTextDeltas(true);

/** Starts this script in a child mode; resolves with the path it serves. */
async function child(mode: "--serve-gateway" | "--serve-relay", name: PathName) {
  const proc = Bun.spawn([process.execPath, import.meta.path, mode, fake.url], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${mode} exited: ${first}`);
    first += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const served = JSON.parse(first.trim()) as { base: string; credential: string };
  const path: Path = { name, ...served };
  return {
    path,
    stop: async () => {
      proc.stdin.end();
      await proc.exited;
    },
  };
}

const gatewayChild = await child("--serve-gateway", "gateway");
const relayChild = await child("--serve-relay", "relay");
const direct: Path = { name: "direct", base: fake.url, credential: REAL_KEY };
const paths: Path[] = [direct, relayChild.path, gatewayChild.path];

// Warm every path (JIT, keep-alive connections, the gateway's prepared statements).
for (const path of paths) {
  await ttftBurst(fake, path, 20);
  await ttftUnderLoad(fake, path, 5, 50);
  await chunkRound(fake, path, 5, true);
}

interface Row {
  streams: string;
  measure: string;
  result: Comparison;
  /** Counted against the target (the bursts are worst cases shown beside it). */
  target: boolean;
}
const rows: Row[] = [];
for (const count of CONCURRENCY) {
  rows.push({
    streams: String(count),
    measure: count === 1 ? "time to first token" : `time to first token, ${count - 1} other streams running`,
    result: await sideBySide(paths, TTFT_SAMPLES, (path) => ttftUnderLoad(fake, path, count, PROBES)),
    target: true,
  });
  rows.push({
    streams: String(count),
    measure:
      count === 1
        ? `per-chunk latency (1 delta / ${PACE_MS} ms)`
        : `per-chunk latency (each 1 delta / ${PACE_MS} ms, starts spread over ${PACE_MS} ms)`,
    result: await sideBySide(paths, CHUNK_SAMPLES, (path) => chunkRound(fake, path, count, true)),
    target: true,
  });
}
const burst = Math.max(...CONCURRENCY);
if (burst > 1) {
  rows.push({
    streams: `${burst}, burst`,
    measure: `time to first token, ${burst} requests sent at the same instant`,
    result: await sideBySide(paths, TTFT_SAMPLES, (path) => ttftBurst(fake, path, burst)),
    target: false,
  });
  rows.push({
    streams: `${burst}, lockstep`,
    measure: `per-chunk latency, all ${burst} streams' deltas at the same instants`,
    result: await sideBySide(paths, CHUNK_SAMPLES, (path) => chunkRound(fake, path, burst, false)),
    target: false,
  });
}

// pi, directly, through the bare relay and through the gateway: the same models.json but for the base
// URL and the key.
const gatewayModels = buildModelsJson(
  [{ name: FAKE_PROVIDER, api: "openai-completions", models: [{ id: FAKE_MODEL }] }],
  gatewayChild.path.base.slice(0, -`/${FAKE_PROVIDER}`.length),
  LLM_TOKEN_ENV,
);
function modelsAt(baseUrl: string) {
  const models = structuredClone(gatewayModels);
  const provider = models.providers[FAKE_PROVIDER];
  if (!provider) throw new Error("no provider in models.json");
  provider.baseUrl = baseUrl;
  provider.apiKey = REAL_KEY;
  return { ...models };
}
const pis: Record<PathName, PiOnFake> = {
  direct: await PiOnFake.start(modelsAt(fake.url), FAKE_PROVIDER, FAKE_MODEL),
  relay: await PiOnFake.start(modelsAt(relayChild.path.base), FAKE_PROVIDER, FAKE_MODEL),
  gateway: await PiOnFake.start({ ...gatewayModels }, FAKE_PROVIDER, FAKE_MODEL, {
    env: { [LLM_TOKEN_ENV]: gatewayChild.path.credential },
  }),
};
const piSamples: Record<PathName, { ttft: number[]; latencies: number[] }> = {
  direct: { ttft: [], latencies: [] },
  relay: { ttft: [], latencies: [] },
  gateway: { ttft: [], latencies: [] },
};
const piPaths: PathName[] = ["direct", "relay", "gateway"];
for (let turn = -2; turn < PI_TURNS; turn++) {
  for (let i = 0; i < piPaths.length; i++) {
    const name = piPaths[(turn + 3 + i) % piPaths.length] as PathName;
    const result = await piTurn(fake, pis[name]);
    if (turn < 0) continue; // warm-up
    piSamples[name].ttft.push(result.ttft);
    piSamples[name].latencies.push(...result.latencies);
  }
}
for (const pi of Object.values(pis)) await pi.stop();
await gatewayChild.stop();
await relayChild.stop();
await fake.stop();

// ---- the tables ----------------------------------------------------------------------------------------

const ms = (value: number) => value.toFixed(3);
const pair = (a: number, b: number) => `${ms(a)} / ${ms(b)}`;
const ratio = (a: number, b: number) => (a / b).toFixed(2);

console.log("\nStreams read by this process, openai-completions SSE; ms, p50 / p99\n");
console.log(
  "| streams at once | measure | direct | bare relay | through the gateway | added by the gateway | gateway / direct | gateway − bare relay |",
);
console.log("|---|---|---|---|---|---|---|---|");
/** The worst added p50 of each concurrency (bursts aside). */
const worstAddedP50 = new Map<string, number>();
for (const row of rows) {
  const { direct: d, relay: r, gateway: g } = row.result.stats;
  const { addedP50, overRelayP50, rounds } = row.result;
  if (row.target) {
    worstAddedP50.set(row.streams, Math.max(worstAddedP50.get(row.streams) ?? 0, addedP50));
  }
  console.log(
    `| ${row.streams} | ${row.measure} | ${pair(d.p50, d.p99)} | ${pair(r.p50, r.p99)} | ${pair(g.p50, g.p99)} (${g.n} in ${rounds} rounds) | ${pair(addedP50, g.p99 - d.p99)} | ${ratio(g.p50, d.p50)} / ${ratio(g.p99, d.p99)} | ${pair(overRelayP50, g.p99 - r.p99)} |`,
  );
}
console.log(
  "\nadded p50: the median of the rounds' differences (each round runs the paths back to back); p99: pooled",
);

console.log(
  `\nReal pi (RPC mode), one turn at a time, ${PI_TURNS} turns per path (interleaved) of ${DELTAS} deltas every ${PACE_MS} ms; ms, p50 / p99\n`,
);
console.log("| pi talks to | prompt → first text_delta | fake sent → pi's text_delta |");
console.log("|---|---|---|");
const piStats = Object.fromEntries(
  piPaths.map((name) => [
    name,
    { ttft: stats(piSamples[name].ttft), chunk: stats(piSamples[name].latencies) },
  ]),
) as Record<PathName, { ttft: Stats; chunk: Stats }>;
const piLabel: Record<PathName, string> = {
  direct: "the fake directly",
  relay: "the bare relay",
  gateway: "the gateway",
};
for (const name of piPaths) {
  const { ttft, chunk } = piStats[name];
  console.log(
    `| ${piLabel[name]} | ${pair(ttft.p50, ttft.p99)} | ${pair(chunk.p50, chunk.p99)} (${chunk.n}) |`,
  );
}
const pd = piStats.direct;
const pr = piStats.relay;
const pg = piStats.gateway;
console.log(
  `| gateway − direct | ${pair(pg.ttft.p50 - pd.ttft.p50, pg.ttft.p99 - pd.ttft.p99)} | ${pair(pg.chunk.p50 - pd.chunk.p50, pg.chunk.p99 - pd.chunk.p99)} |`,
);
console.log(
  `| gateway − bare relay | ${pair(pg.ttft.p50 - pr.ttft.p50, pg.ttft.p99 - pr.ttft.p99)} | ${pair(pg.chunk.p50 - pr.chunk.p50, pg.chunk.p99 - pr.chunk.p99)} |`,
);
console.log("\nTarget: under 1 ms added at p50 (streams read by this process, bursts aside)");
for (const [streams, worst] of worstAddedP50) {
  console.log(`  ${streams} at once: worst ${ms(worst)} ms added — ${worst < 1 ? "met" : "NOT met"}`);
}
process.exit(0);
