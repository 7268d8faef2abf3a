import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sweepPartials } from "../../src/runner/files/partial-sweep.ts";
import { type FilesFixture, makeFixture } from "./helpers.ts";

let fx: FilesFixture;
beforeEach(() => {
  fx = makeFixture();
});
afterEach(() => fx.cleanup());

/** A partial file last written an hour ago, as a runner killed mid-upload leaves it. */
function stalePartial(path: string): string {
  writeFileSync(path, "half an upload");
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(path, anHourAgo, anHourAgo);
  return path;
}

test("a new runner removes the partial files an earlier one left, and nothing else", async () => {
  mkdirSync(join(fx.ws, "deep/er"), { recursive: true });
  const stale = [
    stalePartial(join(fx.ws, ".oqto-partial-a")),
    stalePartial(join(fx.ws, "deep/er/.oqto-partial-b")),
  ];
  // Kept: a user's file, a partial newer than the runner's start (its own upload), one outside
  // the root reached only through a symlink, and partials under node_modules (not walked).
  writeFileSync(join(fx.ws, "notes.txt"), "mine");
  const outsidePartial = stalePartial(join(fx.outside, ".oqto-partial-outside"));
  symlinkSync(fx.outside, join(fx.ws, "link-out"));
  mkdirSync(join(fx.ws, "node_modules/pkg"), { recursive: true });
  const skipped = stalePartial(join(fx.ws, "node_modules/pkg/.oqto-partial-c"));
  const startedAt = Date.now() - 60_000;
  const fresh = join(fx.ws, ".oqto-partial-fresh");
  writeFileSync(fresh, "an upload of this runner");

  expect(await sweepPartials(fx.root, startedAt)).toBe(2);
  for (const path of stale) expect(existsSync(path)).toBe(false);
  for (const path of [join(fx.ws, "notes.txt"), outsidePartial, skipped, fresh])
    expect(existsSync(path)).toBe(true);
});

test("a missing workspace root sweeps nothing and does not throw", async () => {
  expect(await sweepPartials(join(fx.base, "nowhere"), Date.now())).toBe(0);
});
