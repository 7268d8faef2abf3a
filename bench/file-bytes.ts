/**
 * File bytes through the whole product (serve + runner, REST): download and upload throughput of
 * one big file next to `cat FILE > /dev/null` and `dd … conv=fsync` on the same file and disk, in
 * one run, with the peak RSS of serve and the runner while each transfer runs.
 *
 *   bun bench/file-bytes.ts [--mb 1024] [--runs 3]
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runnerPidOf, sampleRss } from "../tests/helpers/rss-sampler.ts";
import { startStack } from "../tests/helpers/stack.ts";

const { values } = parseArgs({
  options: { mb: { type: "string", default: "1024" }, runs: { type: "string", default: "3" } },
});
const MEGABYTES = Number(values.mb);
const RUNS = Number(values.runs);
const BYTES = MEGABYTES * 1024 * 1024;

const stack = await startStack({ noProvider: true, serverConfig: `max_upload_mb = ${MEGABYTES + 16}` });
const auth = { authorization: `Bearer ${stack.admin.token}` };
const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
  method: "POST",
  headers: { ...auth, "content-type": "application/json" },
  body: JSON.stringify({ name: "bench" }),
});
const workspace = ((await created.json()) as { path: string }).path;
const servePid = stack.serve.pid;
const runnerPid = runnerPidOf(servePid);

const source = join(workspace, "big.bin");
{
  const block = randomBytes(1024 * 1024);
  const fd = openSync(source, "w");
  for (let i = 0; i < MEGABYTES; i++) writeSync(fd, block);
  closeSync(fd);
}
stack.own(source);

interface Result {
  seconds: number;
  servePeak: number;
  runnerPeak: number;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timed(run: () => Promise<void>): Promise<Result> {
  const sampler = sampleRss([servePid, runnerPid], 20);
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const rss = sampler.stop();
  const growth = (pid: number) => {
    const entry = rss.get(pid);
    return entry ? entry.peak - entry.start : 0;
  };
  return { seconds, servePeak: growth(servePid), runnerPeak: growth(runnerPid) };
}

async function shell(script: string): Promise<void> {
  const proc = Bun.spawn(["sh", "-c", script], { stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(`${script}: ${await new Response(proc.stderr).text()}`);
}

/** curl as the HTTP client: Bun's own fetch tops out below what serve sends. */
async function curl(args: string[]): Promise<string> {
  const proc = Bun.spawn(
    ["curl", "-sS", "-H", `authorization: ${auth.authorization}`, "-H", "expect:", ...args],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0)
    throw new Error(`curl ${args.join(" ")}: ${await new Response(proc.stderr).text()}`);
  return out;
}
const fileUrl = (name: string) => `${stack.baseUrl}/api/workspaces/bench/files/${name}`;

async function download(): Promise<void> {
  const out = await curl(["-o", "/dev/null", "-w", "%{http_code} %{size_download}", fileUrl("big.bin")]);
  if (out !== `200 ${BYTES}`) throw new Error(`download: ${out}`);
}

async function upload(): Promise<void> {
  const out = await curl(["-T", source, fileUrl("up.bin")]);
  const body = JSON.parse(out) as { size?: number };
  if (body.size !== BYTES) throw new Error(`upload: ${out}`);
}

/**
 * What Bun.serve itself sends to curl from a JS stream of 1 MiB chunks already in memory: the
 * ceiling for any proxy that streams through JavaScript (serve cannot sendfile a user's file).
 */
const ceilingServer = Bun.serve({
  port: 0,
  fetch(request) {
    // The other ceiling: Bun.serve sending the file itself with sendfile(2), which serve could only
    // do with a descriptor from the runner (Bun has no SCM_RIGHTS) or the right to open users' files.
    if (new URL(request.url).pathname === "/sendfile") return new Response(Bun.file(source));
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            await null;
            if (sent++ < MEGABYTES) controller.enqueue(chunk);
            else controller.close();
          },
        },
        { highWaterMark: 0 },
      ),
    );
  },
});
async function ceiling(path: "/" | "/sendfile"): Promise<void> {
  const out = await curl([
    "-o",
    "/dev/null",
    "-w",
    "%{size_download}",
    `http://127.0.0.1:${ceilingServer.port}${path}`,
  ]);
  if (out !== String(BYTES)) throw new Error(`ceiling ${path}: ${out}`);
}

const ddTarget = join(workspace, "dd.bin");
const rows: Array<{ what: string; base: string; runs: Result[]; baseRuns: Result[] }> = [];
await shell(`cat '${source}' > /dev/null`); // into the page cache
const cat: Result[] = [];
const down: Result[] = [];
const dd: Result[] = [];
const up: Result[] = [];
const bare: Result[] = [];
const sendfile: Result[] = [];
for (let i = 0; i < RUNS; i++) {
  cat.push(await timed(() => shell(`cat '${source}' > /dev/null`)));
  bare.push(await timed(() => ceiling("/")));
  sendfile.push(await timed(() => ceiling("/sendfile")));
  down.push(await timed(download));
  dd.push(await timed(() => shell(`dd if='${source}' of='${ddTarget}' bs=1M conv=fsync status=none`)));
  rmSync(ddTarget, { force: true });
  up.push(await timed(upload));
}
rows.push({ what: "download GET /files", base: "cat FILE > /dev/null", runs: down, baseRuns: cat });
rows.push({ what: "upload PUT /files", base: "dd bs=1M conv=fsync", runs: up, baseRuns: dd });
rows.push({
  what: "Bun.serve alone, JS stream from memory",
  base: "cat FILE > /dev/null",
  runs: bare,
  baseRuns: cat,
});
rows.push({
  what: "Bun.serve alone, the file with sendfile (Bun.file)",
  base: "cat FILE > /dev/null",
  runs: sendfile,
  baseRuns: cat,
});
ceilingServer.stop(true);
await stack.stop();

const mbps = (s: number) => (MEGABYTES / s).toFixed(0);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
console.log(`\nFile bytes, a ${MEGABYTES} MiB file from the page cache, median of ${RUNS} runs\n`);
console.log(
  "| transfer | MiB/s | baseline | baseline MiB/s | ratio | serve RSS growth, max MiB | runner RSS growth, max MiB |",
);
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) {
  const s = median(row.runs.map((r) => r.seconds));
  const b = median(row.baseRuns.map((r) => r.seconds));
  const serve = Math.max(...row.runs.map((r) => r.servePeak));
  const runner = Math.max(...row.runs.map((r) => r.runnerPeak));
  console.log(
    `| ${row.what} | ${mbps(s)} | ${row.base} | ${mbps(b)} | ${(b / s).toFixed(2)} | ${mib(serve)} | ${mib(runner)} |`,
  );
}
process.exit(0);
