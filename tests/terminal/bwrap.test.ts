/**
 * A terminal whose shell runs inside bwrap through `wrapCommand`, as the runner will run it in
 * the workspace's sandbox: the PTY, resize and Ctrl-C must work through the wrapper.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { makeFixture, type TerminalFixture, uniqueSleep, waitForProcesses } from "./helpers.ts";

let fx: TerminalFixture;
afterEach(async () => {
  await fx.cleanup();
});

/** A minimal sandbox: read-only root, private /dev, /proc and pid namespace, writable workspace. */
function bwrapWrapper(workspace: string, argv: string[]): string[] {
  return [
    "bwrap",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--bind",
    workspace,
    workspace,
    "--unshare-pid",
    "--die-with-parent",
    "--",
    ...argv,
  ];
}

describe("terminal inside bwrap", () => {
  test("echo, resize and Ctrl-C work in the sandbox, which is really there", async () => {
    expect(Bun.which("bwrap")).not.toBeNull();
    const seen: string[] = [];
    fx = makeFixture({
      wrapCommand: (workspace, argv) => {
        seen.push(workspace);
        return bwrapWrapper(workspace, argv);
      },
    });
    const { terminal_id, pid } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    expect(seen).toEqual([fx.ws]);
    const id = terminal_id;

    // Echo, and proof of the sandbox: a fresh pid namespace (the shell is not the bwrap pid
    // the runner sees), the workspace writable, everything else read-only.
    fx.manager.input(id, "echo hi-$((6*7)) pid=$$; touch ok.txt && echo WS$((1+1)); touch ../escape.txt\n");
    const out = await fx.probe.waitFor(id, /Read-only file system/);
    expect(out).toContain("hi-42");
    const innerPid = Number(/pid=(\d+)/.exec(out)?.[1]);
    expect(innerPid).toBeLessThan(10);
    expect(innerPid).not.toBe(pid);
    expect(out).toContain("WS2");
    expect(existsSync(join(fx.ws, "ok.txt"))).toBe(true);
    expect(existsSync(join(fx.root, "escape.txt"))).toBe(false);

    // Resize reaches the shell through the wrapper.
    fx.manager.input(id, "echo A$((1+1)) $(stty size) Z\n");
    await fx.probe.waitFor(id, /A2 24 80 Z/);
    fx.manager.resize(id, 120, 50);
    fx.manager.input(id, "echo B$((1+1)) $(stty size) Z\n");
    await fx.probe.waitFor(id, /B2 50 120 Z/);

    // Ctrl-C interrupts the foreground job; the shell keeps working.
    fx.manager.input(id, "echo START$((1+1)); sleep 30\n");
    await fx.probe.waitFor(id, /START2\r\n/);
    await Bun.sleep(150);
    fx.manager.input(id, "\x03");
    fx.manager.input(id, "echo rc=$?; echo ALIVE$((3+4))\n");
    const after = await fx.probe.waitFor(id, /ALIVE7/, 5000);
    expect(after).toContain("rc=130");

    // Exit codes pass through bwrap.
    fx.manager.input(id, "exit 7\n");
    expect(await fx.probe.waitExit(id)).toEqual({ exit_code: 7 });
  });

  test("closing a sandboxed terminal ends everything in the sandbox", async () => {
    fx = makeFixture({ wrapCommand: bwrapWrapper });
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    const marker = uniqueSleep();
    fx.manager.input(terminal_id, `echo S$((1+1)); ${marker}\n`);
    await fx.probe.waitFor(terminal_id, /S2\r\n/);
    await waitForProcesses(marker, 1);
    fx.manager.close(terminal_id);
    await fx.probe.waitExit(terminal_id, 5000);
    await waitForProcesses(marker, 0);
  });
});
