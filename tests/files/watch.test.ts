import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FileChangedPush } from "../../src/protocol/files.ts";
import { FileService } from "../../src/runner/files/file-service.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";
import { expectCode, type FilesFixture, makeFixture } from "./helpers.ts";

/** Collects pushes and waits for the ones a test expects. */
class Pushes {
  readonly all: FileChangedPush[] = [];
  readonly listener = (push: FileChangedPush) => {
    this.all.push(push);
  };

  summary(from = 0): string[] {
    return this.all.slice(from).map((p) => `${p.event_type} ${p.path} ${p.entry_type}`);
  }

  async waitFor(line: string, from = 0, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.summary(from).includes(line)) {
      if (Date.now() > deadline) throw new Error(`no '${line}' in [${this.summary(from).join(", ")}]`);
      await Bun.sleep(20);
    }
  }
}

describe("watch", () => {
  let fx: FilesFixture;
  beforeEach(() => {
    fx = makeFixture({ watchDebounceMs: 50 });
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  test("create, modify and delete of files and directories arrive with workspace-relative paths", async () => {
    mkdirSync(join(fx.ws, "old-dir", "inner"), { recursive: true });
    writeFileSync(join(fx.ws, "old-dir", "inner", "f.txt"), "x");
    const pushes = new Pushes();
    const { watch_id } = await fx.service.watch(fx.ws, pushes.listener);

    writeFileSync(join(fx.ws, "a.txt"), "1");
    await pushes.waitFor("file_created a.txt file");
    let mark = pushes.all.length;
    appendFileSync(join(fx.ws, "a.txt"), "2");
    await pushes.waitFor("file_modified a.txt file", mark);
    unlinkSync(join(fx.ws, "a.txt"));
    await pushes.waitFor("file_deleted a.txt file", mark);

    mark = pushes.all.length;
    mkdirSync(join(fx.ws, "new-dir"));
    await pushes.waitFor("dir_created new-dir directory", mark);
    // A directory that existed before the watch started is known to be one when it goes.
    rmSync(join(fx.ws, "old-dir"), { recursive: true });
    await pushes.waitFor("dir_deleted old-dir directory", mark);

    expect(pushes.all.every((p) => p.watch_id === watch_id && p.workspace_path === fx.ws)).toBe(true);
    expect(pushes.all.every((p) => p.type === "file_changed")).toBe(true);
  });

  test("files made at once inside a new directory tree are all reported", async () => {
    const pushes = new Pushes();
    await fx.service.watch(fx.ws, pushes.listener);
    mkdirSync(join(fx.ws, "a", "b", "c"), { recursive: true });
    writeFileSync(join(fx.ws, "a", "b", "c", "deep.txt"), "x");
    await pushes.waitFor("file_created a/b/c/deep.txt file");
    for (const dir of ["a", "a/b", "a/b/c"])
      expect(pushes.summary()).toContain(`dir_created ${dir} directory`);
    expect(pushes.summary().filter((line) => line.includes("deep.txt"))).toEqual([
      "file_created a/b/c/deep.txt file",
    ]);
  });

  test("a burst of writes is debounced, and the runner's own temp files never show", async () => {
    const pushes = new Pushes();
    await fx.service.watch(fx.ws, pushes.listener);
    writeFileSync(join(fx.ws, "log.txt"), "");
    await pushes.waitFor("file_created log.txt file");
    const mark = pushes.all.length;
    for (let i = 0; i < 20; i++) appendFileSync(join(fx.ws, "log.txt"), `${i}\n`);
    await pushes.waitFor("file_modified log.txt file", mark);
    await Bun.sleep(200);
    expect(pushes.summary(mark)).toEqual(["file_modified log.txt file"]);

    await fx.service.write({
      workspace_path: fx.ws,
      path: "saved.txt",
      content: Buffer.from("atomic").toString("base64"),
      create_parents: false,
      overwrite: true,
    });
    await pushes.waitFor("file_created saved.txt file");
    await Bun.sleep(200);
    expect(pushes.all.some((p) => p.path.includes(".oqto-partial-"))).toBe(false);
  });

  test("watches of one workspace share a watcher; unwatch stops only that subscription", async () => {
    const first = new Pushes();
    const second = new Pushes();
    const a = await fx.service.watch(fx.ws, first.listener);
    const b = await fx.service.watch(`${fx.ws}/`, second.listener);
    expect(a.watch_id).not.toBe(b.watch_id);
    writeFileSync(join(fx.ws, "one.txt"), "1");
    await first.waitFor("file_created one.txt file");
    await second.waitFor("file_created one.txt file");
    expect(second.all[0]?.workspace_path).toBe(`${fx.ws}/`);

    expect(fx.service.unwatch(a.watch_id)).toEqual({});
    writeFileSync(join(fx.ws, "two.txt"), "2");
    await second.waitFor("file_created two.txt file");
    await Bun.sleep(150);
    expect(first.summary()).toEqual(["file_created one.txt file"]);
    expect(() => fx.service.unwatch(a.watch_id)).toThrow("no watch with id");
    fx.service.unwatch(b.watch_id);
  });

  test("changes behind a symlink to another home are not reported", async () => {
    const small = makeFixture({ watchDebounceMs: 50, watchIndexLimit: 1 });
    try {
      symlinkSync(small.outside, join(small.ws, "home-link"));
      const pushes = new Pushes();
      await small.service.watch(small.ws, pushes.listener);
      writeFileSync(join(small.outside, "planted.txt"), "x");
      unlinkSync(join(small.outside, "secret.txt"));
      writeFileSync(join(small.ws, "marker.txt"), "x");
      await pushes.waitFor("file_created marker.txt file");
      await Bun.sleep(150);
      expect(pushes.all.filter((p) => p.path.startsWith("home-link/"))).toEqual([]);
    } finally {
      await small.cleanup();
    }
  });

  test("the number of watches is bounded", async () => {
    const small = makeFixture({ maxWatches: 1 });
    try {
      await small.service.watch(small.ws, () => {});
      await expectCode(
        small.service.watch(small.ws, () => {}),
        "busy",
      );
    } finally {
      await small.cleanup();
    }
  });
});

test("a file the agent writes through pi arrives as a watch event", async () => {
  const env = await RunnerEnv.start();
  const service = new FileService({ workspaceRoot: env.workspaceRoot, limits: { watchDebounceMs: 50 } });
  try {
    const pushes = new Pushes();
    await service.watch(env.workspace, pushes.listener);
    await env.create("s-watch");
    env.llm.script([
      {
        toolCalls: [
          { id: "call_w", name: "write", arguments: { path: "from-agent.md", content: "# written by pi" } },
        ],
      },
      { text: "done" },
    ]);
    const from = env.events.length;
    expect((await env.cmd({ session_id: "s-watch", cmd: "prompt", message: "write it" })).success).toBe(true);
    await pushes.waitFor("file_created from-agent.md file", 0, 20_000);
    await env.waitFor("s-watch", "agent.idle", { from });
    const read = await service.read({
      workspace_path: env.workspace,
      path: "from-agent.md",
      offset: 0,
      length: 100,
    });
    expect(Buffer.from(read.content, "base64").toString()).toBe("# written by pi");
  } finally {
    await service.close();
    await env.stop();
  }
}, 60_000);
