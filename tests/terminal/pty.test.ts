/**
 * A real login shell on a real PTY through the TerminalManager. Markers are computed by the
 * shell (`$((6*7))`), so a match proves the shell ran the command, not just that the PTY
 * echoed what was typed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { errorCode, makeFixture, type TerminalFixture, uniqueSleep, waitForProcesses } from "./helpers.ts";

let fx: TerminalFixture;
const savedEnv = { ...process.env };

beforeAll(() => {
  // The runner may have these from a systemd user session; the shell must not.
  process.env.XDG_RUNTIME_DIR = "/run/user/4242";
  process.env.DBUS_SESSION_BUS_ADDRESS = "unix:path=/run/user/4242/bus";
  process.env.OQTO_RUNNER_SECRET = "runner-only";
});
afterAll(() => {
  for (const key of ["XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "OQTO_RUNNER_SECRET"]) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});
afterEach(async () => {
  await fx.cleanup();
});

describe("terminal on a real PTY", () => {
  test("typed input is echoed and runs in the workspace", async () => {
    fx = makeFixture();
    const { terminal_id, pid, reattached, scrollback } = await fx.manager.open({
      workspace_path: fx.ws,
      cols: 80,
      rows: 24,
    });
    expect(pid).toBeGreaterThan(0);
    expect(reattached).toBe(false);
    expect(scrollback.length).toBe(0);
    expect(fx.manager.count).toBe(1);
    fx.manager.input(terminal_id, "echo hello-$((6*7)); pwd\n");
    const out = await fx.probe.waitFor(terminal_id, /hello-42\r\n.*\r\n/);
    expect(out).toContain("echo hello-$((6*7))");
    expect(out).toMatch(new RegExp(`hello-42\\r\\n${fx.ws}\\r\\n`));
  });

  test("stty size follows a resize", async () => {
    fx = makeFixture();
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "echo A$((1+1)) $(stty size) Z\n");
    await fx.probe.waitFor(terminal_id, /A2 24 80 Z/);
    fx.manager.resize(terminal_id, 132, 40);
    fx.manager.input(terminal_id, "echo B$((1+1)) $(stty size) Z\n");
    await fx.probe.waitFor(terminal_id, /B2 40 132 Z/);
    expect(await errorCode(() => fx.manager.resize(terminal_id, 0, 40))).toBe("invalid_request");
    expect(await errorCode(() => fx.manager.resize(terminal_id, 80, 1001))).toBe("invalid_request");
    expect(await errorCode(() => fx.manager.resize(terminal_id, 80.5, 24))).toBe("invalid_request");
  });

  test("Ctrl-C interrupts sleep and the shell keeps working", async () => {
    fx = makeFixture();
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "echo START$((1+1)); sleep 30\n");
    await fx.probe.waitFor(terminal_id, /START2\r\n/);
    await Bun.sleep(150);
    const interruptedAt = Date.now();
    fx.manager.input(terminal_id, "\x03");
    fx.manager.input(terminal_id, "echo rc=$?; echo ALIVE$((3+4))\n");
    const out = await fx.probe.waitFor(terminal_id, /ALIVE7/);
    expect(Date.now() - interruptedAt).toBeLessThan(5000);
    expect(out).toContain("^C");
    expect(out).toContain("rc=130");
  });

  test("exit 7 reports exit_code 7, once, and the id is gone", async () => {
    fx = makeFixture();
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "echo BYE$((2*2)); exit 7\n");
    expect(await fx.probe.waitExit(terminal_id)).toEqual({ exit_code: 7 });
    // The last output came before the exit report.
    expect(fx.probe.output(terminal_id)).toContain("BYE4");
    await Bun.sleep(100);
    expect(fx.probe.exits.get(terminal_id)).toHaveLength(1);
    expect(fx.manager.count).toBe(0);
    expect(await errorCode(() => fx.manager.input(terminal_id, "echo\n"))).toBe("not_found");
    expect(await errorCode(() => fx.manager.close(terminal_id))).toBe("not_found");
  });

  test("close hangs up the shell and its running job", async () => {
    fx = makeFixture();
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    const marker = uniqueSleep();
    fx.manager.input(terminal_id, `echo S$((1+1)); ${marker}\n`);
    await fx.probe.waitFor(terminal_id, /S2\r\n/);
    await waitForProcesses(marker, 1);
    const started = Date.now();
    fx.manager.close(terminal_id);
    // Repeating it while the shell is going away is harmless.
    fx.manager.close(terminal_id);
    expect(await errorCode(() => fx.manager.input(terminal_id, "x"))).toBe("not_found");
    const status = await fx.probe.waitExit(terminal_id);
    expect(status).toEqual({ signal: "SIGHUP" });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(fx.probe.exits.get(terminal_id)).toHaveLength(1);
    await waitForProcesses(marker, 0);
  });

  test("a shell that ignores SIGHUP is killed after the grace", async () => {
    fx = makeFixture({ killGraceMs: 300 });
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "trap '' HUP; echo T$((1+1))\n");
    await fx.probe.waitFor(terminal_id, /T2\r\n/);
    fx.manager.close(terminal_id);
    expect(await fx.probe.waitExit(terminal_id)).toEqual({ signal: "SIGKILL" });
  });

  test("the shell gets a clean, explicit environment", async () => {
    fx = makeFixture();
    const { terminal_id } = await fx.manager.open({ workspace_path: fx.ws, cols: 80, rows: 24 });
    fx.manager.input(terminal_id, "env | sort; echo ENV$((5+5))DONE\n");
    const out = await fx.probe.waitFor(terminal_id, /ENV10DONE/);
    expect(out).toContain("TERM=xterm-256color");
    expect(out).toMatch(/[\r\n]HOME=\//);
    expect(out).toMatch(/[\r\n]USER=\S+/);
    expect(out).toMatch(/[\r\n]PATH=\S+/);
    expect(out).toMatch(/[\r\n]LANG=\S+/);
    expect(out).not.toContain("XDG_RUNTIME_DIR");
    expect(out).not.toContain("DBUS_SESSION_BUS_ADDRESS");
    expect(out).not.toContain("OQTO_RUNNER_SECRET");
  });
});
