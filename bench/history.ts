/**
 * History benchmark: the embedded `oqto hstry` service over real gRPC on a unix socket, as the runner
 * uses it. The service runs in its own process (as in production); this process is the client.
 *
 *   - tail read: GetMessages limit 200 on a 10,000-message conversation (target p95 < 20 ms)
 *   - search: full-text Search over 100,000 messages, several query shapes (target p95 < 50 ms)
 *   - AppendMessages: one-message turns (latency and rate) and 100-message batches (rate)
 *
 * Message text is generated from a fixed seed (Zipf-distributed vocabulary plus code tokens), so runs are
 * comparable. `--socket PATH` benchmarks an already running service instead (e.g. an external hstry).
 *
 *   bun bench/history.ts [--messages 100000] [--tail-conversation 10000] [--iterations 200] [--socket PATH]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type MessageSchema, SearchMode } from "../src/gen/hstry_service_pb.ts";
import { createHistoryClient, type HistoryClient } from "../src/history/client.ts";

const REPO = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    "tail-conversation": { type: "string", default: "10000" },
    iterations: { type: "string", default: "200" },
    socket: { type: "string" },
  },
});
const TOTAL_MESSAGES = Number(values.messages);
const TAIL_CONVERSATION = Number(values["tail-conversation"]);
const ITERATIONS = Number(values.iterations);
const TAIL_LIMIT = 200;
const OTHER_CONVERSATION_SIZE = 1000;
const FILL_BATCH = 500;
const TARGETS = { tailP95Ms: 20, searchP95Ms: 50 };

// ---- deterministic text ---------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(42);

/** 5,000 pronounceable words; word k is drawn with probability ~ 1/k (Zipf), like real prose. */
const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "re",
  "tu",
  "sa",
  "ne",
  "po",
  "di",
  "ga",
  "vo",
  "ri",
  "ze",
  "fu",
  "ha",
  "jo",
];
const VOCABULARY = Array.from({ length: 5000 }, (_, k) => {
  let word = "";
  let n = k + 17;
  while (n > 0) {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return word;
});
const HARMONIC = VOCABULARY.reduce((sum, _, k) => sum + 1 / (k + 1), 0);
function zipfWord(): string {
  let target = random() * HARMONIC;
  for (let k = 0; k < VOCABULARY.length; k++) {
    target -= 1 / (k + 1);
    if (target <= 0) return VOCABULARY[k] as string;
  }
  return VOCABULARY.at(-1) as string;
}
const CODE_TOKENS = [
  "src/main.ts",
  "parse_config",
  "handleRequest",
  "node_modules/.bin",
  "http://127.0.0.1:8080",
];

function sentence(): string {
  const words = Array.from({ length: 20 + Math.floor(random() * 30) }, zipfWord);
  if (random() < 0.1)
    words.splice(Math.floor(random() * words.length), 0, CODE_TOKENS[Math.floor(random() * 5)] as string);
  return words.join(" ");
}

/** The search workload: a rare, a mid-frequency and a common word, two words, code tokens. */
const QUERIES: Array<{ label: string; query: string; mode: SearchMode }> = [
  { label: "rare word", query: VOCABULARY[4000] as string, mode: SearchMode.AUTO },
  { label: "mid-frequency word", query: VOCABULARY[300] as string, mode: SearchMode.AUTO },
  { label: "common word", query: VOCABULARY[3] as string, mode: SearchMode.AUTO },
  { label: "two words", query: `${VOCABULARY[50]} ${VOCABULARY[120]}`, mode: SearchMode.NATURAL },
  { label: "code path", query: "src/main.ts", mode: SearchMode.AUTO },
  { label: "identifier", query: "parse_config", mode: SearchMode.CODE },
];
/** How many generated messages contain every term of each query (the work a search has to rank). */
const matchingMessages = QUERIES.map(() => 0);

function makeRow(idx: number): MessageInitShape<typeof MessageSchema> {
  const content = sentence();
  const words = new Set(content.split(" "));
  QUERIES.forEach(({ query }, q) => {
    if (query.split(" ").every((term) => words.has(term)))
      matchingMessages[q] = (matchingMessages[q] ?? 0) + 1;
  });
  return {
    idx,
    role: idx % 2 === 0 ? "user" : "assistant",
    content,
    partsJson: JSON.stringify([{ type: "text", id: `bench#${idx}/0`, text: content }]),
    createdAtMs: BigInt(1_700_000_000_000 + idx * 1000),
    metadataJson: "{}",
  };
}

// ---- measurement ----------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function timeCalls(iterations: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await call(i);
    durations.push(performance.now() - start);
  }
  return durations.sort((a, b) => a - b);
}

const ms = (value: number) => value.toFixed(2);

// ---- the service ----------------------------------------------------------------------------

async function startService(dir: string): Promise<{ socketPath: string; stop(): Promise<void> }> {
  const socketPath = join(dir, "hstry.sock");
  // The entry function the CLI dispatches `oqto hstry` to, run as its own process.
  const entry = join(dir, "run-hstry.ts");
  writeFileSync(
    entry,
    `import { runHstryCommand } from ${JSON.stringify(join(REPO, "src/cli/hstry.ts"))};
process.exitCode = await runHstryCommand(process.argv.slice(2));\n`,
  );
  const proc = Bun.spawn(
    [process.execPath, entry, "--socket", socketPath, "--db", join(dir, "history.db"), "--data-dir", dir],
    { stdout: "ignore", stderr: "pipe", env: { ...process.env, XDG_CONFIG_HOME: dir } },
  );
  const reader = proc.stderr.getReader();
  let log = "";
  while (!log.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`oqto hstry exited before listening:\n${log}`);
    log += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return {
    socketPath,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

// ---- the workload ---------------------------------------------------------------------------

async function fillConversation(client: HistoryClient, externalId: string, count: number): Promise<void> {
  await client.write.writeConversation({
    conversation: { sourceId: "bench", externalId, createdAtMs: 1_700_000_000_000n, workspace: "/bench" },
  });
  for (let start = 0; start < count; start += FILL_BATCH) {
    const rows = Array.from({ length: Math.min(FILL_BATCH, count - start) }, (_, i) => makeRow(start + i));
    await client.write.appendMessages({ sourceId: "bench", externalId, messages: rows });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync("/tmp/hb-");
  const service = values.socket ? undefined : await startService(dir);
  const socketPath = values.socket ?? (service?.socketPath as string);
  const client = createHistoryClient({ socketPath });
  const runId = crypto.randomUUID().slice(0, 8);
  const rows: string[] = [];
  const written: string[] = [];
  try {
    // AppendMessages throughput, measured while building the tail conversation: first as one-message turns…
    const tailId = `tail-${runId}`;
    written.push(tailId);
    await client.write.writeConversation({
      conversation: {
        sourceId: "bench",
        externalId: tailId,
        createdAtMs: 1_700_000_000_000n,
        workspace: "/bench",
      },
    });
    const singles = Math.min(1000, TAIL_CONVERSATION);
    const singleStart = performance.now();
    const singleDurations = await timeCalls(singles, (i) =>
      client.write.appendMessages({ sourceId: "bench", externalId: tailId, messages: [makeRow(i)] }),
    );
    const singleRate = singles / ((performance.now() - singleStart) / 1000);
    rows.push(
      `| AppendMessages, 1 message per call | ${singles} calls | ${ms(percentile(singleDurations, 50))} | ${ms(percentile(singleDurations, 95))} | ${singleRate.toFixed(0)} msg/s | |`,
    );
    // …then as 100-message batches for the rest.
    const batchCalls = Math.ceil((TAIL_CONVERSATION - singles) / 100);
    const batchStart = performance.now();
    const batchDurations = await timeCalls(batchCalls, (i) => {
      const from = singles + i * 100;
      const batch = Array.from({ length: Math.min(100, TAIL_CONVERSATION - from) }, (_, k) =>
        makeRow(from + k),
      );
      return client.write.appendMessages({ sourceId: "bench", externalId: tailId, messages: batch });
    });
    const batchRate = (TAIL_CONVERSATION - singles) / ((performance.now() - batchStart) / 1000);
    rows.push(
      `| AppendMessages, 100 messages per call | ${batchCalls} calls | ${ms(percentile(batchDurations, 50))} | ${ms(percentile(batchDurations, 95))} | ${batchRate.toFixed(0)} msg/s | |`,
    );

    // Tail read of the big conversation.
    const tail = await timeCalls(ITERATIONS, () =>
      client.read.getMessages({ sourceId: "bench", externalId: tailId, limit: BigInt(TAIL_LIMIT) }),
    );
    const tailP95 = percentile(tail, 95);
    rows.push(
      `| GetMessages limit ${TAIL_LIMIT}, ${TAIL_CONVERSATION.toLocaleString("en")}-message conversation | ${ITERATIONS} calls | ${ms(percentile(tail, 50))} | ${ms(tailP95)} | | p95 < ${TARGETS.tailP95Ms} ms: ${tailP95 < TARGETS.tailP95Ms ? "met" : "MISSED"} |`,
    );

    // Fill up to the search corpus size.
    const fillStart = performance.now();
    let filled = TAIL_CONVERSATION;
    for (let c = 0; filled < TOTAL_MESSAGES; c++) {
      const count = Math.min(OTHER_CONVERSATION_SIZE, TOTAL_MESSAGES - filled);
      written.push(`corpus-${runId}-${c}`);
      await fillConversation(client, `corpus-${runId}-${c}`, count);
      filled += count;
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    rows.push(
      `| AppendMessages, ${FILL_BATCH} messages per call (corpus fill) | ${(filled - TAIL_CONVERSATION).toLocaleString("en")} msgs | | | ${((filled - TAIL_CONVERSATION) / fillSeconds).toFixed(0)} msg/s | |`,
    );

    const all: number[] = [];
    for (const [q, { label, query, mode }] of QUERIES.entries()) {
      let hits = 0;
      const durations = await timeCalls(Math.ceil(ITERATIONS / 4), async () => {
        hits = (await client.search.search({ query, mode, limit: 50n })).hits.length;
      });
      all.push(...durations);
      rows.push(
        `| Search "${query}" (${label}: ${(matchingMessages[q] ?? 0).toLocaleString("en")} of ${filled.toLocaleString("en")} messages match) | ${durations.length} calls, ${hits} hits | ${ms(percentile(durations, 50))} | ${ms(percentile(durations, 95))} | | |`,
      );
    }
    all.sort((a, b) => a - b);
    const searchP95 = percentile(all, 95);
    rows.push(
      `| Search, all queries above | ${all.length} calls | ${ms(percentile(all, 50))} | ${ms(searchP95)} | | p95 < ${TARGETS.searchP95Ms} ms: ${searchP95 < TARGETS.searchP95Ms ? "met" : "MISSED"} |`,
    );

    console.log(
      `\nhistory benchmark (${values.socket ? `service at ${values.socket}` : "embedded oqto hstry"})\n`,
    );
    console.log("| operation | sample | p50 ms | p95 ms | throughput | target |");
    console.log("|---|---|---|---|---|---|");
    for (const row of rows) console.log(row);
  } finally {
    // A service that outlives the bench keeps nothing of it.
    if (values.socket) {
      for (const externalId of written) {
        await client.write.deleteConversation({ sourceId: "bench", externalId }).catch(() => {});
      }
    }
    client.close();
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
