/**
 * File bytes over REST as data frames through serve and the runner: validators and conditional
 * requests, single ranges and resumed downloads, bad Range headers, and a 2 GiB round trip with
 * both processes' memory measured while it runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runnerPidOf, sampleRss } from "../helpers/rss-sampler.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const MiB = 1024 * 1024;
let stack: Stack;
let workspace: string;
let auth: Record<string, string>;

const fileUrl = (path: string, query = "") => `${stack.baseUrl}/api/workspaces/bytes/files/${path}${query}`;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(fileUrl(path), { headers: { ...auth, ...headers } });
/** Writes a workspace file as its agents would (owned by the runner's user). */
function place(name: string, bytes: Uint8Array): void {
  writeFileSync(join(workspace, name), bytes);
  stack.own(join(workspace, name));
}

beforeAll(async () => {
  stack = await startStack({ serverConfig: "max_upload_mb = 2100" });
  auth = { authorization: `Bearer ${stack.admin.token}` };
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "bytes" }),
  });
  workspace = ((await res.json()) as { path: string }).path;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

describe("validators", () => {
  test("downloads carry Content-Length, an ETag and Accept-Ranges; If-None-Match gets a 304 until the file changes", async () => {
    const bytes = randomBytes(300 * 1024);
    place("small.bin", bytes);
    const first = await get("small.bin");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-length")).toBe(String(bytes.length));
    expect(first.headers.get("accept-ranges")).toBe("bytes");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    expect(sha256(new Uint8Array(await first.arrayBuffer()))).toBe(sha256(bytes));

    const cached = await get("small.bin", { "if-none-match": `"other", ${etag}` });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect((await cached.arrayBuffer()).byteLength).toBe(0);
    // A browser copies a 304's headers onto its cached copy: the file's CSP sandbox must come again.
    expect(cached.headers.get("content-security-policy")).toBe(first.headers.get("content-security-policy"));
    expect(cached.headers.get("content-security-policy")).toContain("sandbox");
    expect(cached.headers.get("content-length")).toBeNull();
    expect((await get("small.bin", { "if-none-match": `W/${etag}` })).status).toBe(304);
    expect((await get("small.bin", { "if-none-match": '"stale"' })).status).toBe(200);

    // An upload replaces the file (a new inode): the old tag no longer matches.
    const replaced = await fetch(fileUrl("small.bin"), {
      method: "PUT",
      headers: auth,
      body: randomBytes(10),
    });
    expect(replaced.status).toBe(200);
    const after = await get("small.bin", { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    expect((await after.arrayBuffer()).byteLength).toBe(10);
  });
});

describe("ranges", () => {
  const bytes = randomBytes(24 * MiB + 777);
  beforeAll(() => place("video.mp4", bytes));

  test("a Range request returns 206 with exactly those bytes and a Content-Range", async () => {
    const cases: Array<[string, number, number]> = [
      ["bytes=0-0", 0, 0],
      ["bytes=1000-1999", 1000, 1999],
      // Across data frames and read windows (1 MiB frames, 4 MiB reads).
      [`bytes=${MiB - 3}-${9 * MiB + 5}`, MiB - 3, 9 * MiB + 5],
      [`bytes=${bytes.length - 100}-`, bytes.length - 100, bytes.length - 1],
      ["bytes=-4096", bytes.length - 4096, bytes.length - 1],
      [`bytes=${bytes.length - 10}-${bytes.length + 500}`, bytes.length - 10, bytes.length - 1],
    ];
    for (const [header, start, end] of cases) {
      const res = await get("video.mp4", { range: header });
      expect(`${header} ${res.status}`).toBe(`${header} 206`);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${bytes.length}`);
      expect(res.headers.get("content-type")).toBe("video/mp4");
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length).toBe(end - start + 1);
      expect(body.equals(bytes.subarray(start, end + 1))).toBe(true);
    }
  });

  test("an interrupted download resumed with Range (and If-Range) equals the file", async () => {
    const first = await get("video.mp4");
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag") ?? "";
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    const parts: Uint8Array[] = [];
    let received = 0;
    while (received < 5 * MiB) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the download ended before it was interrupted");
      parts.push(value);
      received += value.length;
    }
    await reader.cancel(); // the connection drops mid-file

    const rest = await get("video.mp4", { range: `bytes=${received}-`, "if-range": etag });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe(`bytes ${received}-${bytes.length - 1}/${bytes.length}`);
    parts.push(new Uint8Array(await rest.arrayBuffer()));
    expect(sha256(Buffer.concat(parts))).toBe(sha256(bytes));

    // Resuming against another version of the file: If-Range makes it the whole new file, not a splice.
    const stale = await get("video.mp4", { range: `bytes=${received}-`, "if-range": '"1-2-3"' });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(bytes.length);
  });

  test("bad Range headers get a clear 4xx, other units are ignored, and serve stays up", async () => {
    const size = bytes.length;
    for (const header of [
      "bytes=abc",
      "bytes=5",
      "bytes=-",
      "bytes=",
      "bytes=10-5",
      "bytes=0-1,5-6",
      "bytes=99999999999999999999-",
      "bytes 0-5",
    ]) {
      const res = await get("video.mp4", { range: header });
      expect(`${header} ${res.status}`).toBe(`${header} 400`);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code).toBe("BAD_REQUEST");
      expect(body.error.toLowerCase()).toContain("range");
    }
    for (const header of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, "bytes=-0"]) {
      const res = await get("video.mp4", { range: header });
      expect(`${header} ${res.status}`).toBe(`${header} 416`);
      expect(res.headers.get("content-range")).toBe(`bytes */${size}`);
      expect(((await res.json()) as { code: string }).code).toBe("RANGE_NOT_SATISFIABLE");
    }
    const otherUnit = await get("video.mp4", { range: "items=0-5" });
    expect(otherUnit.status).toBe(200);
    expect((await otherUnit.arrayBuffer()).byteLength).toBe(size);
    place("empty.txt", new Uint8Array(0));
    expect((await get("empty.txt", { range: "bytes=0-" })).status).toBe(416);
    const empty = await get("empty.txt");
    expect(empty.status).toBe(200);
    expect(empty.headers.get("content-length")).toBe("0");
    expect((await fetch(`${stack.baseUrl}/api/health`)).status).toBe(200);
  });
});

describe("memory", () => {
  test("a 2 GiB upload and download keep serve's and the runner's RSS far below the file size, and a slow client holds the runner back", async () => {
    const total = 2048;
    const block = randomBytes(MiB);
    const sent = createHash("sha256");
    let index = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (index === total) {
          controller.close();
          return;
        }
        // Every MiB differs (its index in front), so a misplaced chunk changes the hash.
        const chunk = Buffer.from(block);
        chunk.writeUInt32BE(index, 0);
        index += 1;
        sent.update(chunk);
        controller.enqueue(chunk);
      },
    });
    const servePid = stack.serve.pid;
    const runnerPid = runnerPidOf(servePid);
    const sampler = sampleRss([servePid, runnerPid], 50);
    const put = await fetch(fileUrl("huge.bin"), {
      method: "PUT",
      headers: auth,
      body,
      duplex: "half",
    } as RequestInit);
    expect(put.status).toBe(201);
    expect(((await put.json()) as { size: number }).size).toBe(total * MiB);

    const res = await get("huge.bin");
    expect(res.status).toBe(200);
    const received = createHash("sha256");
    let bytes = 0;
    for await (const chunk of res.body as ReadableStream<Uint8Array>) {
      received.update(chunk);
      bytes += chunk.length;
    }
    const rss = sampler.stop();
    expect(bytes).toBe(total * MiB);
    expect(received.digest("hex")).toBe(sent.digest("hex"));
    for (const [role, pid] of [
      ["serve", servePid],
      ["runner", runnerPid],
    ] as const) {
      const { start, peak } = rss.get(pid) ?? { start: 0, peak: Number.POSITIVE_INFINITY };
      // Transfers hold a few MiB each; the rest is garbage the collector frees at its own pace.
      console.log(`2 GiB round trip: ${role} RSS grew by at most ${Math.round((peak - start) / MiB)} MiB`);
      expect(peak - start).toBeLessThan(256 * MiB);
    }

    // A client that reads 2 MiB/s: serve stays within its window and the runner reads no further ahead.
    const readBytes = () => Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${runnerPid}/io`, "utf8"))?.[1]);
    const readBefore = readBytes();
    const slowSampler = sampleRss([servePid], 50);
    const slow = Bun.spawn(
      [
        "curl",
        "-sS",
        "--limit-rate",
        "2M",
        "-H",
        `authorization: ${auth.authorization}`,
        "-o",
        "/dev/null",
        fileUrl("huge.bin"),
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    await Bun.sleep(4000);
    slow.kill();
    await slow.exited;
    const slowServe = slowSampler.stop().get(servePid) ?? { start: 0, peak: Number.POSITIVE_INFINITY };
    const runnerRead = readBytes() - readBefore;
    console.log(
      `slow client, 4 s: runner read ${Math.round(runnerRead / MiB)} MiB, serve grew ${Math.round((slowServe.peak - slowServe.start) / MiB)} MiB`,
    );
    expect(runnerRead).toBeLessThan(96 * MiB);
    expect(slowServe.peak - slowServe.start).toBeLessThan(96 * MiB);
    rmSync(join(workspace, "huge.bin"));
  }, 300_000);
});
