/** What the manager refuses: too many terminals, workspaces outside the root, bad input. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProtocolError } from "../../src/protocol/common.ts";
import type { TerminalOpenParams } from "../../src/protocol/terminal.ts";
import { errorCode, makeFixture, type TerminalFixture } from "./helpers.ts";

let fx: TerminalFixture;
afterEach(async () => {
  await fx.cleanup();
});

describe("terminal limits", () => {
  test("the terminal limit gives busy, and a closed terminal frees its slot", async () => {
    fx = makeFixture({ maxTerminals: 2 });
    const open = () => fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    const first = await open();
    await open();
    expect(await errorCode(open)).toBe("busy");
    fx.manager.close(first.terminal_id);
    await fx.probe.waitExit(first.terminal_id);
    const third = await open();
    expect(third.pid).toBeGreaterThan(0);
  });

  test("terminals being started count toward the limit", async () => {
    fx = makeFixture({ maxTerminals: 2 });
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    const refused = results.find((r) => r.status === "rejected");
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(ProtocolError);
    expect(((refused as PromiseRejectedResult).reason as ProtocolError).code).toBe("busy");
    expect(fx.manager.count).toBe(2);
  });

  test("closeAll ends every terminal and refuses new ones", async () => {
    fx = makeFixture();
    const a = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    const b = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(b.terminal_id, "sleep 30\n");
    await fx.manager.closeAll();
    expect(fx.probe.exits.has(a.terminal_id)).toBe(true);
    expect(fx.probe.exits.has(b.terminal_id)).toBe(true);
    expect(fx.manager.count).toBe(0);
    expect(await errorCode(() => fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 }))).toBe(
      "shutting_down",
    );
  });
});

describe("workspace checks", () => {
  const openIn = (workspace_path: string) => fx.manager.open({ workspace_path, cols: 80, rows: 24 });

  test("a workspace outside the root, the root itself, or a relative path is path_not_allowed", async () => {
    fx = makeFixture();
    expect(await errorCode(() => openIn(fx.outside))).toBe("path_not_allowed");
    expect(await errorCode(() => openIn("/etc"))).toBe("path_not_allowed");
    expect(await errorCode(() => openIn(fx.root))).toBe("path_not_allowed");
    expect(await errorCode(() => openIn(`${fx.ws}/../../outside`))).toBe("path_not_allowed");
    expect(await errorCode(() => openIn("root/ws"))).toBe("path_not_allowed");
    expect(await errorCode(() => openIn(`${fx.ws}\0x`))).toBe("path_not_allowed");
    // Nothing outside the root is looked up: a missing outside path is refused, not "not found".
    expect(await errorCode(() => openIn(join(fx.outside, "missing")))).toBe("path_not_allowed");
    expect(fx.manager.count).toBe(0);
  });

  test("a symlink escaping the root is refused, one staying inside is followed", async () => {
    fx = makeFixture();
    symlinkSync(fx.outside, join(fx.root, "escape"));
    symlinkSync("/", join(fx.ws, "to-slash"));
    expect(await errorCode(() => openIn(join(fx.root, "escape")))).toBe("path_not_allowed");
    expect(await errorCode(() => openIn(join(fx.ws, "to-slash", "etc")))).toBe("path_not_allowed");
    symlinkSync(fx.root, join(fx.ws, "to-root"));
    expect(await errorCode(() => openIn(join(fx.ws, "to-root")))).toBe("path_not_allowed");

    mkdirSync(join(fx.ws, "real"));
    symlinkSync(join(fx.ws, "real"), join(fx.root, "alias"));
    const { terminal_id } = await openIn(join(fx.root, "alias"));
    fx.manager.input(terminal_id, "echo CWD$((1+1)):$(pwd -P)\n");
    await fx.probe.waitFor(terminal_id, new RegExp(`CWD2:${join(fx.ws, "real")}\\r\\n`));
  });

  test("missing workspaces and files are refused with their own codes", async () => {
    fx = makeFixture();
    writeFileSync(join(fx.root, "file"), "x");
    expect(await errorCode(() => openIn(join(fx.root, "missing")))).toBe("path_not_found");
    expect(await errorCode(() => openIn(join(fx.root, "file")))).toBe("not_a_directory");
  });

  test("bad open params are invalid_request", async () => {
    fx = makeFixture();
    const bad = (params: Record<string, unknown>) => () =>
      fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24, ...params } as TerminalOpenParams);
    expect(await errorCode(bad({ cols: 0 }))).toBe("invalid_request");
    expect(await errorCode(bad({ rows: 1001 }))).toBe("invalid_request");
    expect(await errorCode(bad({ terminal_id: "" }))).toBe("invalid_request");
    expect(await errorCode(bad({ terminal_id: "a/b" }))).toBe("invalid_request");
    expect(await errorCode(bad({ unexpected: true }))).toBe("invalid_request");
  });
});

describe("spawn failures", () => {
  test("a wrapper that throws refuses the terminal with sandbox_error", async () => {
    fx = makeFixture({
      wrapCommand: () => {
        throw new Error("bwrap is missing");
      },
    });
    expect(await errorCode(() => fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 }))).toBe(
      "sandbox_error",
    );
    expect(fx.manager.count).toBe(0);
  });

  test("a command that cannot start is spawn_failed and frees its slot", async () => {
    fx = makeFixture({ maxTerminals: 1, wrapCommand: () => ["/nonexistent/oqto-shell"] });
    const open = () => fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    expect(await errorCode(open)).toBe("spawn_failed");
    expect(await errorCode(open)).toBe("spawn_failed");
    expect(fx.manager.count).toBe(0);
  });
});
