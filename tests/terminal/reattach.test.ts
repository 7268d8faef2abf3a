/** Detach, re-attach with scrollback replay, and the grace period, on real PTYs. */
import { afterEach, describe, expect, test } from "bun:test";
import { errorCode, makeFixture, type TerminalFixture } from "./helpers.ts";

let fx: TerminalFixture;
afterEach(async () => {
  await fx.cleanup();
});

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("re-attach", () => {
  test("output while detached is not pushed but replayed, exactly once, on re-attach", async () => {
    fx = makeFixture();
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "echo BEFORE$((1+1))\n");
    await fx.probe.waitFor(terminal_id, /BEFORE2\r\n/);
    fx.manager.detach(terminal_id);
    fx.manager.input(terminal_id, "echo WHILE$((2+2))\n");
    await Bun.sleep(400);
    expect(fx.probe.output(terminal_id)).not.toContain("WHILE4");

    const { scrollback, pid } = fx.manager.attach(terminal_id);
    const replay = decode(scrollback);
    expect(replay).toContain("BEFORE2");
    expect(replay).toContain("WHILE4");
    expect(pid).toBeGreaterThan(0);

    fx.manager.input(terminal_id, "echo AFTER$((3+3))\n");
    await fx.probe.waitFor(terminal_id, /AFTER6\r\n/);
    // Live output after the re-attach holds only what came after it.
    expect(fx.probe.output(terminal_id)).not.toContain("WHILE4");
  });

  test("open with a live terminal_id re-attaches, resizes, and keeps the same shell", async () => {
    fx = makeFixture();
    const first = await fx.manager.open({ terminal_id: "tab-1", workspace_path: fx.ws, cols: 80, rows: 24 });
    expect(first.terminal_id).toBe("tab-1");
    fx.manager.input("tab-1", "X=kept; echo ONE$((1+1))\n");
    await fx.probe.waitFor("tab-1", /ONE2\r\n/);
    fx.manager.detach("tab-1");

    const again = await fx.manager.open({ terminal_id: "tab-1", workspace_path: fx.ws, cols: 100, rows: 30 });
    expect(again.reattached).toBe(true);
    expect(again.pid).toBe(first.pid);
    expect(decode(again.scrollback)).toContain("ONE2");
    fx.manager.input("tab-1", "echo $X-$(stty size)-$((2+2))\n");
    await fx.probe.waitFor("tab-1", /kept-30 100-4/);
    expect(fx.manager.count).toBe(1);

    const other = `${fx.root}/other`;
    await Bun.write(`${other}/.keep`, "");
    expect(
      await errorCode(() =>
        fx.manager.open({ terminal_id: "tab-1", workspace_path: other, cols: 80, rows: 24 }),
      ),
    ).toBe("invalid_request");
  });

  test("the scrollback stays within its bound under a flood and keeps the newest output", async () => {
    const bound = 8 * 1024;
    fx = makeFixture({ scrollbackBytes: bound });
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "seq 1 200000; echo FLOOD$((4+4))DONE\n");
    await fx.probe.waitFor(terminal_id, /FLOOD8DONE/, 30_000);
    const pushed = fx.probe.pushes.get(terminal_id) ?? [];
    const pushedBytes = pushed.reduce((sum, bytes) => sum + bytes.length, 0);
    expect(pushedBytes).toBeGreaterThan(1_000_000);
    // Batching merged the PTY's small reads; no push exceeds the batch bound.
    expect(Math.max(...pushed.map((bytes) => bytes.length))).toBeLessThanOrEqual(32 * 1024);

    fx.manager.detach(terminal_id);
    const { scrollback } = fx.manager.attach(terminal_id);
    expect(scrollback.length).toBeLessThanOrEqual(bound);
    expect(scrollback.length).toBeGreaterThan(bound - 100);
    const replay = decode(scrollback);
    expect(replay).toContain("199999\r\n200000\r\nFLOOD8DONE");
    // The cut was moved to a line start: the replay begins with a whole number.
    expect(replay).toMatch(/^\d+\r\n/);
    expect(replay).not.toMatch(/(^|\n)1\r\n2\r\n/);
  });

  test("a detached terminal is closed after the grace period", async () => {
    fx = makeFixture({ detachGraceMs: 300 });
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "echo UP$((1+1))\n");
    await fx.probe.waitFor(terminal_id, /UP2\r\n/);
    const detachedAt = Date.now();
    fx.manager.detach(terminal_id);
    expect(await fx.probe.waitExit(terminal_id, 5000)).toEqual({ signal: "SIGHUP" });
    expect(Date.now() - detachedAt).toBeGreaterThanOrEqual(290);
    expect(await errorCode(() => fx.manager.attach(terminal_id))).toBe("not_found");
    expect(fx.manager.count).toBe(0);
  });

  test("re-attaching within the grace period keeps the terminal", async () => {
    fx = makeFixture({ detachGraceMs: 300 });
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.detach(terminal_id);
    await Bun.sleep(100);
    fx.manager.attach(terminal_id);
    await Bun.sleep(600);
    expect(fx.probe.exits.has(terminal_id)).toBe(false);
    fx.manager.input(terminal_id, "echo STILL$((1+1))\n");
    await fx.probe.waitFor(terminal_id, /STILL2\r\n/);
  });

  test("detachAll starts the grace for every terminal", async () => {
    fx = makeFixture({ detachGraceMs: 200 });
    const a = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    const b = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.detachAll();
    await fx.probe.waitExit(a.terminal_id, 5000);
    await fx.probe.waitExit(b.terminal_id, 5000);
    expect(fx.manager.count).toBe(0);
  });

  test("unknown ids are not_found", async () => {
    fx = makeFixture();
    expect(await errorCode(() => fx.manager.attach("nope"))).toBe("not_found");
    expect(await errorCode(() => fx.manager.detach("nope"))).toBe("not_found");
    expect(await errorCode(() => fx.manager.resize("nope", 80, 24))).toBe("not_found");
    expect(await errorCode(() => fx.manager.input("nope", "x"))).toBe("not_found");
    expect(await errorCode(() => fx.manager.close("nope"))).toBe("not_found");
    expect(await errorCode(() => fx.manager.input("bad id with spaces", "x"))).toBe("invalid_request");
  });
});
