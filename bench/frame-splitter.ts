/**
 * The runner socket's splitter on serve's hot path: FrameSplitter (JSON lines with binary frames
 * between them) against LineSplitter alone (lines only, the floor) on the same bytes, in one run.
 * The input is canonical text-delta lines as the relay receives them, in socket-sized chunks, with
 * and without binary file frames mixed in.
 *
 *   bun bench/frame-splitter.ts [--mb 64]
 */
import { parseArgs } from "node:util";
import { encodeBinaryFrameHead, FrameSplitter } from "../src/shared/frame-splitter.ts";
import { LineSplitter } from "../src/shared/line-splitter.ts";

const { values } = parseArgs({ options: { mb: { type: "string", default: "64" } } });
const TOTAL = Number(values.mb) * 1024 * 1024;
const CHUNK = 64 * 1024;
const LIMITS = {
  maxLineBytes: 16 * 1024 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxPayloadBytes: 4 * 1024 * 1024,
};

function deltaLine(i: number): string {
  return `${JSON.stringify({ type: "event", session_id: "oqto-0193b7f0-0000-7000-8000-000000000000", seq: i, event: "stream.text_delta", delta: `token ${i} `, ts: 1765000000000 + i })}\n`;
}

/** `TOTAL` bytes of delta lines; every `frameEvery` lines a binary frame of `payload` bytes. */
function stream(frameEvery: number, payload: number): Buffer {
  const parts: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; bytes < TOTAL; i++) {
    const line = Buffer.from(deltaLine(i));
    parts.push(line);
    bytes += line.length;
    if (frameEvery > 0 && i % frameEvery === frameEvery - 1) {
      parts.push(encodeBinaryFrameHead(`{"transfer":"t${i}"}`, payload), Buffer.alloc(payload, 7));
      bytes += payload;
    }
  }
  return Buffer.concat(parts);
}

function chunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  // Each chunk is a buffer of its own, as the socket hands them over.
  for (let at = 0; at < bytes.length; at += CHUNK) out.push(Buffer.from(bytes.subarray(at, at + CHUNK)));
  return out;
}

function countNewlines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) n++;
  return n;
}

function time(run: () => void): number {
  const runs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const start = performance.now();
    run();
    runs.push(performance.now() - start);
  }
  return runs.sort((a, b) => a - b)[3] as number;
}

const rows: string[] = [];
for (const [label, frameEvery, payload] of [
  ["lines only", 0, 0],
  ["a 64 KiB frame every 100 lines", 100, 64 * 1024],
] as const) {
  const input = chunks(stream(frameEvery, payload));
  const mb = input.reduce((sum, c) => sum + c.length, 0) / 2 ** 20;
  let lines = 0;
  let payloadBytes = 0;
  const frameMs = time(() => {
    const splitter = new FrameSplitter(
      () => lines++,
      (_header, piece) => {
        payloadBytes += piece.length;
      },
      LIMITS,
      (reason) => {
        throw new Error(reason);
      },
    );
    for (const c of input) splitter.push(c);
  });
  const lineInput = frameEvery === 0 ? input : chunks(stream(0, 0));
  const lineMb = lineInput.reduce((sum, c) => sum + c.length, 0) / 2 ** 20;
  const lineMs = time(() => {
    const splitter = new LineSplitter(
      () => lines++,
      LIMITS.maxLineBytes,
      () => {},
    );
    for (const c of lineInput) splitter.push(c);
  });
  if (payloadBytes === 0 && frameEvery > 0) throw new Error("no payload seen");
  const frameNs = (frameMs * 1e6) / input.reduce((sum, c) => sum + countNewlines(c), 0);
  const lineNs = (lineMs * 1e6) / lineInput.reduce((sum, c) => sum + countNewlines(c), 0);
  rows.push(
    `| ${label} | ${(mb / (frameMs / 1000)).toFixed(0)} | ${frameNs.toFixed(0)} | ${(lineMb / (lineMs / 1000)).toFixed(0)} | ${lineNs.toFixed(0)} | ${(frameNs / lineNs).toFixed(2)} |`,
  );
}
console.log(`\nSplitting the runner socket's bytes, ${values.mb} MiB in 64 KiB chunks, median of 7 runs\n`);
console.log(
  "| input | FrameSplitter MiB/s | FrameSplitter ns per line | LineSplitter on the same lines alone, MiB/s | LineSplitter ns per line | time per line, ratio |",
);
console.log("|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
