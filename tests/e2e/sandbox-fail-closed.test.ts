/**
 * The sandbox fails closed through the whole product (SANDBOX.md §7): without bubblewrap, or with
 * an invalid global sandbox file, no agent and no terminal starts, the error says why (over the
 * mux, over REST and in the browser), and pi never runs unsandboxed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signIn } from "../helpers/browser.ts";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** Where executables live on this host; the bwrap-less PATH mirrors them all except bwrap. */
const SYSTEM_BIN_DIRS = ["/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/usr/sbin"];

/**
 * A PATH directory holding a symlink to every system executable but bwrap: the host as it would be
 * without bubblewrap installed, while bun, getent and the rest still resolve.
 */
function pathWithoutBwrap(): string {
  const dir = mkdtempSync("/tmp/oqto-nobw-");
  // The runner may run as another user (serve --run-as as root): it must be able to use this PATH.
  chmodSync(dir, 0o755);
  for (const source of SYSTEM_BIN_DIRS) {
    let names: string[];
    try {
      names = readdirSync(source);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name === "bwrap") continue;
      try {
        symlinkSync(join(source, name), join(dir, name));
      } catch {
        // An earlier directory already provided this name, as it would on the real PATH.
      }
    }
  }
  return dir;
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

/** Every live descendant of `rootPid` (serve → runner → bwrap → pi), parents before children. */
function descendants(rootPid: number): ProcessInfo[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // The command name may hold spaces and parentheses: the parent pid follows its last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: ProcessInfo[] = [];
  const pending = (children.get(rootPid) ?? []).map((pid) => ({ pid, ppid: rootPid }));
  while (pending.length > 0) {
    const { pid, ppid } = pending.shift() as { pid: number; ppid: number };
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
      found.push({ pid, ppid, argv });
    } catch {
      continue;
    }
    pending.push(...(children.get(pid) ?? []).map((child) => ({ pid: child, ppid: pid })));
  }
  return found;
}

const PI_CLI = "pi-coding-agent/dist/cli.js";
const isBwrap = (p: ProcessInfo) => p.argv[0]?.endsWith("/bwrap") === true;
/** Anything that is, or is about to become, a pi process: pi itself or a bwrap that would run it. */
const piRelatedProcesses = (stack: Stack) =>
  descendants(stack.serve.pid).filter((p) => p.argv.some((arg) => arg.endsWith(PI_CLI)));

/** The pid of the runner `oqto serve` started (`oqto runner …`). */
function runnerPid(stack: Stack): number | undefined {
  return descendants(stack.serve.pid).find((p) => p.argv[2] === "runner")?.pid;
}

async function createWorkspace(stack: Stack, name: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`workspace create failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { path: string }).path;
}

async function createSession(stack: Stack, workspace: string): Promise<{ id: string; response: Frame }> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const id = newSessionId();
  try {
    const response = await client.command(id, "session.create", {
      config: { harness: "pi", cwd: workspace },
    });
    return { id, response };
  } finally {
    client.close();
  }
}

async function openTerminal(stack: Stack, workspace: string): Promise<Frame> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  try {
    const reply = await client.openTerminal(workspace);
    if (reply.type === "opened") {
      client.send(JSON.stringify({ channel: "terminal", type: "close", terminal_id: reply.terminal_id }));
    }
    return reply;
  } finally {
    client.close();
  }
}

let noBwrap: Stack;
let noBwrapPath: string;
let noBwrapWorkspace: string;
let stack: Stack;
let workspace: string;
let browser: Browser;

beforeAll(async () => {
  noBwrapPath = pathWithoutBwrap();
  // Both stacks and the browser start together: each start mostly waits on its own processes.
  [noBwrap, stack, browser] = await Promise.all([
    startStack({ env: { PATH: noBwrapPath } }),
    startStack(),
    launchChromium(),
  ]);
  [noBwrapWorkspace, workspace] = await Promise.all([
    createWorkspace(noBwrap, "nobwrap"),
    createWorkspace(stack, "globalfile"),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([noBwrap?.stop(), stack?.stop()]);
  if (noBwrapPath) rmSync(noBwrapPath, { recursive: true, force: true });
});

describe("bwrap missing from the runner's PATH", () => {
  test("session.create fails with sandbox_error naming bubblewrap, and no pi process starts", async () => {
    const { id, response } = await createSession(noBwrap, noBwrapWorkspace);
    expect(response.success).toBe(false);
    expect(response.error_code).toBe("sandbox_error");
    expect(String(response.error)).toContain("bubblewrap");
    expect(piRelatedProcesses(noBwrap)).toEqual([]);
    // The runner keeps nothing half-started: the session it knows is closed.
    const client = await MuxClient.connect(noBwrap.wsUrl, noBwrap.admin.token);
    const state = await client.command(id, "get_state");
    client.close();
    expect(state.success).toBe(true);
    expect((state.data as { session_state: string }).session_state).toBe("closed");
    expect(piRelatedProcesses(noBwrap)).toEqual([]);
  });

  test("terminal.open fails with sandbox_error naming bubblewrap", async () => {
    const reply = await openTerminal(noBwrap, noBwrapWorkspace);
    expect(reply.type).toBe("error");
    expect(reply.code).toBe("sandbox_error");
    expect(String(reply.error)).toContain("bubblewrap");
    // Only Oqto's own processes (runner, history service) live under serve: no shell, no bwrap.
    const foreign = descendants(noBwrap.serve.pid).filter((p) => !p.argv[1]?.endsWith("src/cli/main.ts"));
    expect(foreign).toEqual([]);
  });

  test("the browser shows the user why the agent cannot start", async () => {
    const pageErrors: string[] = [];
    const { context, page } = await newPage(browser, pageErrors);
    await signIn(page, noBwrap);
    await page.locator('[data-workspace="nobwrap"]').click();
    await page.waitForURL(/\/w\/nobwrap$/);

    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    const error = page.getByTestId("chat-load-error");
    await error.waitFor();
    const text = await error.textContent();
    expect(text).toContain("Could not start the session");
    expect(text).toContain("bubblewrap (bwrap) is not installed");
    // Nothing claims the agent is still starting, and nothing can be sent to it.
    expect(await page.getByTestId("session-state").count()).toBe(0);
    expect(await page.getByTestId("composer-input").isDisabled()).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-sandbox-no-bwrap.png"), animations: "disabled" });

    // Trying again asks the runner again, and it still refuses rather than start pi unsandboxed.
    await page.getByRole("button", { name: "Try again" }).click();
    await error.waitFor();
    expect(await error.textContent()).toContain("bubblewrap");

    // Reopened later, the (closed) session takes a message; sending it starts pi, which is refused.
    await page.reload();
    const composer = page.getByTestId("composer-input");
    await page.locator('[data-testid="composer-input"]:not([disabled])').waitFor();
    await composer.fill("hello agent");
    await composer.press("Enter");
    const alert = page.getByTestId("chat-alert");
    await alert.waitFor();
    const alertText = await alert.textContent();
    expect(alertText).toContain("Message not sent");
    expect(alertText).toContain("bubblewrap (bwrap) is not installed");
    // The text is handed back to the composer so that nothing typed is lost.
    expect(await composer.inputValue()).toBe("hello agent");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-sandbox-no-bwrap-send.png"), animations: "disabled" });
    expect(piRelatedProcesses(noBwrap)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 45_000);

  test("bwrap removed while the runner runs: the next start says so, instead of spawning a remembered path", async () => {
    const link = join(noBwrapPath, "bwrap");
    symlinkSync("/usr/bin/bwrap", link);
    try {
      // Installed now: the same runner finds it (a terminal's shell starts inside it).
      expect((await openTerminal(noBwrap, noBwrapWorkspace)).type).toBe("opened");
    } finally {
      unlinkSync(link);
    }
    const terminal = await openTerminal(noBwrap, noBwrapWorkspace);
    expect(terminal.code).toBe("sandbox_error");
    expect(String(terminal.error)).toContain("bubblewrap (bwrap) is not installed");
    const { response } = await createSession(noBwrap, noBwrapWorkspace);
    expect(response.error_code).toBe("sandbox_error");
    expect(String(response.error)).toContain("bubblewrap (bwrap) is not installed");
    expect(piRelatedProcesses(noBwrap)).toEqual([]);
  });
});

describe("an invalid global sandbox file", () => {
  const globalFile = () => join(stack.runnerDataDir, "sandbox.toml");
  const sandboxView = () =>
    fetch(`${stack.baseUrl}/api/workspaces/globalfile/sandbox`, {
      headers: { authorization: `Bearer ${stack.admin.token}` },
    });

  /** Every way in refuses with the same sandbox_error, which contains all of `expected`. */
  async function expectRefused(expected: string[]): Promise<void> {
    const { response } = await createSession(stack, workspace);
    expect(response.success).toBe(false);
    expect(response.error_code).toBe("sandbox_error");
    for (const part of expected) expect(String(response.error)).toContain(part);

    const terminal = await openTerminal(stack, workspace);
    expect(terminal.type).toBe("error");
    expect(terminal.code).toBe("sandbox_error");
    for (const part of expected) expect(String(terminal.error)).toContain(part);

    const view = await sandboxView();
    expect(view.status).toBe(502);
    const body = (await view.json()) as { error: string; code: string; details?: { runner_code?: string } };
    expect(body.code).toBe("BAD_GATEWAY");
    expect(body.details?.runner_code).toBe("sandbox_error");
    for (const part of expected) expect(body.error).toContain(part);
    expect(piRelatedProcesses(stack)).toEqual([]);
  }

  test("an unknown key stops agents and terminals, naming the file and the key", async () => {
    // The runner wrote the default file at its first start; a typo'd key must not be ignored.
    expect(readFileSync(globalFile(), "utf8")).toContain('profile = "development"');
    expect(runnerPid(stack)).toBeNumber();
    writeFileSync(globalFile(), 'profile = "development"\nisolate_everything = true\n');
    await expectRefused([globalFile(), "isolate_everything", "unknown key"]);
  });

  test("an unknown profile name stops them too, naming the profile, never falling back", async () => {
    writeFileSync(globalFile(), 'profile = "nope"\n');
    await expectRefused([globalFile(), "unknown profile 'nope'"]);
  });

  test("restoring a valid file lets agents start again without restarting anything", async () => {
    const runner = runnerPid(stack);
    writeFileSync(globalFile(), 'profile = "development"\n');
    const { id, response } = await createSession(stack, workspace);
    expect(response.error ?? "").toBe("");
    expect(response.success).toBe(true);
    // The agent that started is pi, and it runs inside bwrap.
    const related = piRelatedProcesses(stack);
    const pi = related.filter((p) => !isBwrap(p));
    expect(pi.length).toBe(1);
    const parent = related.find((p) => p.pid === pi[0]?.ppid);
    expect(parent && isBwrap(parent)).toBe(true);
    expect((await sandboxView()).status).toBe(200);
    expect((await openTerminal(stack, workspace)).type).toBe("opened");
    // Same runner as before: the profile was resolved per start, not at runner start.
    expect(runnerPid(stack)).toBe(runner);
    const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    await client.command(id, "session.close");
    client.close();
  }, 30_000);
});
