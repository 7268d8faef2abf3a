/**
 * Workspace benchmark through the whole product (serve + runner, real PTY, real files):
 * terminal keystroke echo latency, the tree of a 20,000-file workspace, and download
 * throughput next to reading the same file straight from disk.
 *
 *   bun bench/workspace.ts [--keys 300] [--files 20000] [--mb 256]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MuxClient } from "../tests/helpers/mux-client.ts";
import { startStack } from "../tests/helpers/stack.ts";

const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "300" },
    files: { type: "string", default: "20000" },
    mb: { type: "string", default: "256" },
  },
});
const KEYS = Number(values.keys);
const FILES = Number(values.files);
const MEGABYTES = Number(values.mb);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const stack = await startStack({ noProvider: true });
const auth = { authorization: `Bearer ${stack.admin.token}` };
const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
  method: "POST",
  headers: { ...auth, "content-type": "application/json" },
  body: JSON.stringify({ name: "bench" }),
});
const workspace = ((await created.json()) as { path: string }).path;
const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
let nextId = 1;
const request = (channel: string, body: Record<string, unknown>) => {
  const id = `b${nextId++}`;
  const reply = client.waitFor((f) => f.channel === channel && f.id === id, 60_000, client.frames.length);
  client.send(JSON.stringify({ channel, id, workspace_path: workspace, ...body }));
  return reply;
};

// ---- terminal echo: one key at a time, time until its echo comes back ------------------------
const opened = await request("terminal", { type: "open", cols: 80, rows: 24 });
const terminalId = String(opened.terminal_id);
let waiting: ((text: string) => void) | null = null;
client.ws.addEventListener("message", (event) => {
  const frame = JSON.parse(String(event.data)) as {
    type?: string;
    terminal_id?: string;
    data_base64?: string;
  };
  if (frame.type === "output" && frame.terminal_id === terminalId && waiting) {
    waiting(Buffer.from(frame.data_base64 ?? "", "base64").toString());
  }
});
await Bun.sleep(1000); // let the shell print its prompt
const echo: number[] = [];
// Keys are paced like a fast typist (40/s): the PTY batcher sends the first output after a quiet
// moment at once and coalesces bursts for 4 ms, which back-to-back synthetic keys would hit every time.
const TYPING_INTERVAL_MS = 25;
for (let i = 0; i < KEYS; i++) {
  await Bun.sleep(TYPING_INTERVAL_MS);
  const key = String.fromCharCode(97 + (i % 26));
  const start = performance.now();
  const seen = new Promise<void>((resolve) => {
    waiting = (text) => {
      if (text.includes(key)) resolve();
    };
  });
  client.send(JSON.stringify({ channel: "terminal", type: "input", terminal_id: terminalId, data: key }));
  await seen;
  echo.push(performance.now() - start);
  if (i % 60 === 59)
    client.send(
      JSON.stringify({ channel: "terminal", type: "input", terminal_id: terminalId, data: "\x15" }),
    );
}
waiting = null;
echo.sort((a, b) => a - b);

// ---- tree of a large workspace ---------------------------------------------------------------
for (let d = 0; d < FILES / 100; d++) {
  const dir = join(workspace, "tree", `d${d}`);
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.txt`), "x");
}
const treeTimes: number[] = [];
for (let run = 0; run < 5; run++) {
  const start = performance.now();
  const tree = await request("files", { type: "tree", path: "tree", depth: 2, limit: 5000 });
  treeTimes.push(performance.now() - start);
  if (tree.type !== "tree_result") throw new Error(JSON.stringify(tree));
}
treeTimes.sort((a, b) => a - b);

// ---- download throughput vs the disk -----------------------------------------------------------
const big = join(workspace, "big.bin");
writeFileSync(big, Buffer.alloc(MEGABYTES * 1024 * 1024, 7));
async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}
const diskStart = performance.now();
const diskBytes = await drain(Bun.file(big).stream());
const diskS = (performance.now() - diskStart) / 1000;
const httpStart = performance.now();
const res = await fetch(`${stack.baseUrl}/api/workspaces/bench/files/big.bin`, { headers: auth });
const httpBytes = await drain(res.body as ReadableStream<Uint8Array>);
const httpS = (performance.now() - httpStart) / 1000;
if (httpBytes !== diskBytes) throw new Error(`downloaded ${httpBytes} of ${diskBytes} bytes`);

client.close();
await stack.stop();

const mbps = (bytes: number, s: number) => (bytes / 1024 / 1024 / s).toFixed(0);
console.log(
  `\nTerminal keystroke echo through serve + runner + PTY, ${KEYS} keys typed ${TYPING_INTERVAL_MS} ms apart, ms\n`,
);
console.log("| p50 | p99 | max |");
console.log("|---|---|---|");
console.log(
  `| ${percentile(echo, 50).toFixed(2)} | ${percentile(echo, 99).toFixed(2)} | ${(echo.at(-1) as number).toFixed(2)} |`,
);
console.log(`\nTree of a ${FILES}-file workspace (depth 2, first page of 5000), 5 runs, ms\n`);
console.log("| median | min | max |");
console.log("|---|---|---|");
console.log(
  `| ${percentile(treeTimes, 50).toFixed(0)} | ${(treeTimes[0] as number).toFixed(0)} | ${(treeTimes.at(-1) as number).toFixed(0)} |`,
);
console.log(`\nDownload of a ${MEGABYTES} MiB file\n`);
console.log("| path | MB/s | ratio |");
console.log("|---|---|---|");
console.log(`| read from disk | ${mbps(diskBytes, diskS)} | 1.00 |`);
console.log(
  `| GET /api/workspaces/…/files (serve + runner) | ${mbps(httpBytes, httpS)} | ${(diskS / httpS).toFixed(2)} |`,
);
process.exit(0);
