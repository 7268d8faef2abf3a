import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorCode } from "../../src/protocol/index.ts";
import { type FilesFixture, makeFixture, SECRET } from "./helpers.ts";

const SWAPPER = join(import.meta.dir, "fixtures", "swap-symlink.ts");
const RACE_MS = 1500;

let fx: FilesFixture;
let before: string[];

beforeEach(() => {
  fx = makeFixture();
  before = fx.outsideListing();
});
afterEach(async () => {
  expect(fx.outsideListing()).toEqual(before);
  expect(readFileSync(join(fx.outside, "secret.txt"), "utf8")).toBe(SECRET);
  expect(readFileSync(join(fx.outside, "sub", "secret.txt"), "utf8")).toBe(SECRET);
  await fx.cleanup();
});

/** Runs `attempt` over and over while the swapper flips `name` in the workspace; tallies outcomes. */
async function race(name: string, target: string, attempt: (i: number) => Promise<void>) {
  const swapper = Bun.spawn(["bun", SWAPPER, fx.ws, name, target, String(RACE_MS)], { stdout: "pipe" });
  let i = 0;
  try {
    let running = true;
    void swapper.exited.then(() => {
      running = false;
    });
    while (running) await attempt(i++);
    expect(await swapper.exited).toBe(0);
    const swaps = Number(await new Response(swapper.stdout).text());
    expect(swaps).toBeGreaterThan(100);
  } finally {
    swapper.kill();
  }
  return i;
}

function tally(outcomes: Map<string, number>, key: string): void {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

function codeOf(error: unknown): ErrorCode | string {
  return (error as { code?: string }).code ?? String(error);
}

test("a directory swapped for a symlink to another home between check and use never leaks or plants", async () => {
  mkdirSync(join(fx.ws, "sub"));
  writeFileSync(join(fx.ws, "sub", "secret.txt"), "inside");
  const s = fx.service;
  const outcomes = new Map<string, number>();
  const attempts = await race("sub", join(fx.outside, "sub"), async (i) => {
    try {
      const read = await s.read({ workspace_path: fx.ws, path: "sub/secret.txt", offset: 0, length: 100 });
      expect(Buffer.from(read.content, "base64").toString()).toBe("inside");
      tally(outcomes, "read ok");
    } catch (error) {
      tally(outcomes, `read ${codeOf(error)}`);
    }
    try {
      await s.write({
        workspace_path: fx.ws,
        path: `sub/w-${i}.txt`,
        content: Buffer.from("x").toString("base64"),
        create_parents: false,
        overwrite: true,
      });
      tally(outcomes, "write ok");
    } catch (error) {
      tally(outcomes, `write ${codeOf(error)}`);
    }
    await s
      .createDirectory({ workspace_path: fx.ws, path: `sub/d-${i}`, create_parents: false })
      .catch(() => {});
    const listed = await s
      .list({ workspace_path: fx.ws, path: "sub", include_hidden: true })
      .catch(() => undefined);
    for (const entry of listed?.entries ?? []) expect(entry.size).not.toBe(SECRET.length);
  });
  expect(attempts).toBeGreaterThan(50);
  // Both states were hit: the real directory (success) and the symlink (refused).
  expect(outcomes.get("read ok")).toBeGreaterThan(0);
  expect(outcomes.get("write ok")).toBeGreaterThan(0);
  expect(
    (outcomes.get("read path_not_allowed") ?? 0) + (outcomes.get("write path_not_allowed") ?? 0),
  ).toBeGreaterThan(0);
  for (const key of outcomes.keys()) expect(key).toMatch(/ (ok|path_not_allowed|path_not_found)$/);
});

test("a file swapped for a symlink to a secret between lstat and open is never read or written through", async () => {
  writeFileSync(join(fx.ws, "note.txt"), "inside");
  const s = fx.service;
  const outcomes = new Map<string, number>();
  await race("note.txt", join(fx.outside, "secret.txt"), async () => {
    try {
      const read = await s.read({ workspace_path: fx.ws, path: "note.txt", offset: 0, length: 100 });
      expect(Buffer.from(read.content, "base64").toString()).not.toContain("SECRET");
      tally(outcomes, "read ok");
    } catch (error) {
      tally(outcomes, `read ${codeOf(error)}`);
    }
    const stream = await s.readStream(fx.ws, "note.txt").catch(() => undefined);
    if (stream) expect(await new Response(stream.stream).text()).not.toContain("SECRET");
    await s
      .copy({ workspace_path: fx.ws, from: "note.txt", to: "copy.txt", overwrite: true })
      .then(() => expect(readFileSync(join(fx.ws, "copy.txt"), "utf8")).not.toContain("SECRET"))
      .catch(() => {});
    await s
      .write({
        workspace_path: fx.ws,
        path: "note.txt",
        content: Buffer.from("inside").toString("base64"),
        create_parents: false,
        overwrite: true,
      })
      .catch(() => {});
  });
  expect(outcomes.get("read ok")).toBeGreaterThan(0);
  expect(outcomes.get("read path_not_allowed")).toBeGreaterThan(0);
});
