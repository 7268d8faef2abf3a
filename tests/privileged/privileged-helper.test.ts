/**
 * The privileged helper as root, against real Linux users: it makes and deletes only `oqto_<name>`
 * accounts it marked, starts each user's runner as that user alone (ids, groups, capabilities, a
 * clean environment), adopts a live runner instead of starting a second, and refuses everything
 * outside its request set (fuzzed). Needs root, as in CI.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ACCOUNT_MARKER, processesOf, processUid } from "../../src/privileged/linux-users.ts";
import { PrivilegedHelper } from "../../src/privileged/privileged-helper.ts";
import { RunnerLauncher } from "../../src/privileged/runner-launcher.ts";
import { HelperRequest, type HelperResponse } from "../../src/protocol/privileged.ts";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { connectAs, procStatus } from "../helpers/linux-processes.ts";
import { createTestUser, type TestUser } from "../helpers/stack.ts";

const REPO = resolve(import.meta.dir, "../..");
const isRoot = process.getuid?.() === 0;
const suffix = () => Buffer.from(crypto.getRandomValues(new Uint8Array(3))).toString("hex");

let base: string;
let server: TestUser;
let stranger: TestUser;
let helper: PrivilegedHelper;
const platformNames: string[] = [];
const logs: string[] = [];

function makeHelper(): PrivilegedHelper {
  const launcher = new RunnerLauncher({
    runtimeDir: join(base, "run"),
    logDir: join(base, "log"),
    serverGid: server.gid,
    runnerCommand: [process.execPath, join(REPO, "src/cli/main.ts")],
  });
  return new PrivilegedHelper({ launcher, homeBase: join(base, "home"), log: (m) => logs.push(m) });
}

/** A fresh platform name whose account the test removes at the end. */
function platformName(): string {
  const name = `t${suffix()}`;
  platformNames.push(name);
  return name;
}

function isValidRequest(line: string): boolean {
  try {
    return HelperRequest.safeParse(JSON.parse(line)).success;
  } catch {
    return false;
  }
}

let nextId = 1;
async function ask(request: Record<string, unknown>, on = helper): Promise<HelperResponse> {
  return on.handleLine(JSON.stringify({ id: nextId++, ...request }));
}
async function result<T = Record<string, unknown>>(
  request: Record<string, unknown>,
  on = helper,
): Promise<T> {
  const response = await ask(request, on);
  if (!response.ok) throw new Error(`${request.op} failed: ${response.code} ${response.error}`);
  return response.result as T;
}

function passwd(): string {
  return readFileSync("/etc/passwd", "utf8");
}

beforeAll(() => {
  if (!isRoot) return;
  base = mkdtempSync("/var/tmp/oqto-helper-");
  // As /run and /home are: users pass through to what is theirs.
  chmodSync(base, 0o755);
  server = createTestUser("/nonexistent", "oqtotsrv");
  stranger = createTestUser("/nonexistent", "oqtotstr");
  helper = makeHelper();
});

afterAll(() => {
  if (!isRoot) return;
  for (const name of platformNames) {
    const linux = `oqto_${name}`;
    const uid = Number(Bun.spawnSync(["id", "-u", linux]).stdout.toString().trim());
    if (uid > 0) for (const pid of processesOf(uid)) process.kill(pid, "SIGKILL");
    // --force: the uid-0 test account "is used by" every root process.
    Bun.spawnSync(["userdel", "--force", "--remove", linux], { stdout: "ignore", stderr: "ignore" });
  }
  server?.remove();
  stranger?.remove();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!isRoot)("the privileged helper", () => {
  test("refuses everything outside its request set, and makes no account for it (fuzzed)", async () => {
    const before = passwd();
    const valid = { op: "ensure_user", user: "valid" };
    const bad: unknown[] = [
      null,
      [],
      "ensure_user",
      42,
      {},
      { op: "ensure_user" },
      { id: 1, op: "ensure_user" },
      { id: 1, op: "useradd", user: "eve" },
      { id: 1, op: "exec", cmd: "id" },
      { id: 1, op: "ensure_user", user: "eve", uid: 0 },
      { id: 1, op: "ensure_user", user: "eve", shell: "/bin/sh" },
      { id: 1, op: "delete_user", user: "eve" },
      { id: 1, op: "delete_user", user: "eve", remove_home: "yes" },
      { id: -1, ...valid },
      { id: 1.5, ...valid },
      { id: "1", ...valid },
      { id: 2 ** 60, ...valid },
      ...["../etc", "Eve", "a".repeat(28), "eve ", "eve\n", "é", "-eve", "_eve", "0eve", "eve;id", ""].map(
        (user) => ({ id: 1, op: "ensure_user", user }),
      ),
      ...["../x", "Root", "x y", "nobody\u0000"].map((user) => ({
        id: 1,
        op: "delete_user",
        user,
        remove_home: true,
      })),
    ];
    const lines = bad.map((value) => JSON.stringify(value));
    lines.push("", "{", "not json", '{"id":1,"op":"ensure_user","user":"eve"', "\u0000\u0001", "[[[[[[[[");
    // Random bytes and random mutations of a valid request.
    const validLine = JSON.stringify({ id: 7, ...valid });
    for (let i = 0; i < 500; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 64)));
      lines.push(new TextDecoder().decode(bytes));
      const chars = [...validLine];
      const at = i % chars.length;
      chars[at] = String.fromCharCode(32 + ((i * 7) % 95));
      const mutated = chars.join("");
      // A mutation may still be a valid request (another name, another op): those are not fuzz.
      if (!isValidRequest(mutated)) lines.push(mutated);
    }
    for (const line of lines) {
      const response = await helper.handleLine(line);
      if (response.ok) throw new Error(`accepted: ${line}`);
      expect(response.code).toBe("invalid_request");
    }
    expect(passwd()).toBe(before);
    // A platform name is only ever a suffix: "root" means oqto_root, never root.
    expect(await ask({ op: "delete_user", user: "root", remove_home: true })).toMatchObject({
      ok: true,
      result: { deleted: false },
    });
    expect(passwd()).toBe(before);
  });

  test("acts only on accounts it marked: not one someone else made, not uid 0, not a system uid", async () => {
    const foreign = platformName();
    Bun.spawnSync(["useradd", "--no-create-home", "--comment", "someone else", `oqto_${foreign}`]);
    const zero = platformName();
    Bun.spawnSync([
      "useradd",
      "--non-unique",
      "--uid",
      "0",
      "--no-create-home",
      "--comment",
      ACCOUNT_MARKER,
      `oqto_${zero}`,
    ]);
    const system = platformName();
    Bun.spawnSync(["useradd", "--system", "--no-create-home", "--comment", ACCOUNT_MARKER, `oqto_${system}`]);
    for (const [name, why] of [
      [foreign, "not made by Oqto"],
      [zero, "uid or gid 0"],
      [system, "system uid"],
    ] as const) {
      for (const op of ["ensure_user", "start_runner", "stop_runner"]) {
        const response = await ask({ op, user: name });
        expect(response).toMatchObject({ ok: false, code: "refused" });
        expect(response.ok ? "" : response.error).toContain(why);
      }
      expect(await ask({ op: "delete_user", user: name, remove_home: true })).toMatchObject({
        code: "refused",
      });
      expect(passwd()).toContain(`oqto_${name}:`);
    }
  });

  test("makes the account, starts its runner as that user alone, adopts it, stops it, deletes the account", async () => {
    const name = platformName();
    const linux = `oqto_${name}`;
    const made = await result<{
      uid: number;
      gid: number;
      home: string;
      workspace_root: string;
      created: boolean;
    }>({
      op: "ensure_user",
      user: name,
    });
    expect(made).toMatchObject({ linux_user: linux, home: join(base, "home", linux), created: true });
    expect((await result({ op: "ensure_user", user: name })).created).toBe(false);
    const account = lookupAccount(linux);
    expect(account.gecos).toBe(ACCOUNT_MARKER);
    expect(account.uid).toBeGreaterThanOrEqual(1000);
    // Its own group, named after it.
    expect(Bun.spawnSync(["id", "-gn", linux]).stdout.toString().trim()).toBe(linux);
    const home = statSync(made.home);
    expect({ uid: home.uid, mode: home.mode & 0o777 }).toEqual({ uid: made.uid, mode: 0o700 });
    expect(statSync(made.workspace_root).uid).toBe(made.uid);

    const started = await result<{ socket: string; pid: number; adopted: boolean }>({
      op: "start_runner",
      user: name,
    });
    expect(started.adopted).toBe(false);
    const proc = procStatus(started.pid);
    const ids = (field: string) => (proc[field] ?? "").trim().split(/\s+/).map(Number);
    expect(ids("Uid")).toEqual([made.uid, made.uid, made.uid, made.uid]);
    expect(ids("Gid")).toEqual([made.gid, made.gid, made.gid, made.gid]);
    expect(ids("Groups")).toEqual([made.gid]);
    expect(proc.CapEff?.trim()).toBe("0000000000000000");
    expect(proc.CapInh?.trim()).toBe("0000000000000000");
    const environ = readFileSync(`/proc/${started.pid}/environ`, "utf8").split("\0").filter(Boolean);
    expect(environ.map((entry) => entry.split("=")[0]).sort()).toEqual(
      [
        "HOME",
        "LANG",
        "LOGNAME",
        "PATH",
        "SHELL",
        "USER",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
      ].sort(),
    );
    expect(environ).toContain(`HOME=${made.home}`);
    // A session of its own: it outlives the helper and the server.
    const stat = readFileSync(`/proc/${started.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    expect(Number(stat[3])).toBe(started.pid);

    // Only that user and the server's group reach the socket.
    const socket = statSync(started.socket);
    expect({ uid: socket.uid, gid: socket.gid, mode: socket.mode & 0o777 }).toEqual({
      uid: made.uid,
      gid: server.gid,
      mode: 0o660,
    });
    expect(connectAs(server, started.socket)).toBe("ok");
    expect(connectAs(stranger, started.socket)).toBe("EACCES");

    // Asked again, by this helper or a new one (a restarted server): the same runner, adopted.
    expect(await result({ op: "start_runner", user: name })).toEqual({ ...started, adopted: true });
    expect(await result({ op: "start_runner", user: name }, makeHelper())).toEqual({
      ...started,
      adopted: true,
    });

    // A runner started by hand on the same socket refuses, and leaves the live one alone.
    const second = Bun.spawnSync(
      [
        "setpriv",
        `--reuid=${made.uid}`,
        `--regid=${made.gid}`,
        "--init-groups",
        "--",
        process.execPath,
        join(REPO, "src/cli/main.ts"),
        "runner",
        "--socket",
        started.socket,
        "--data-dir",
        join(made.home, ".local/share/oqto"),
      ],
      { stdout: "pipe", stderr: "pipe", cwd: "/", env: { HOME: made.home, PATH: process.env.PATH ?? "" } },
    );
    expect(second.exitCode).toBe(2);
    expect(second.stderr.toString()).toContain(`another runner is already listening on ${started.socket}`);
    expect(connectAs(server, started.socket)).toBe("ok");

    expect(await result({ op: "stop_runner", user: name })).toEqual({ stopped: true });
    expect(processUid(started.pid)).toBeNull();
    expect(await result({ op: "stop_runner", user: name })).toEqual({ stopped: false });

    // Started again and then deleted with the account: no process of the user is left.
    const again = await result<{ pid: number }>({ op: "start_runner", user: name });
    expect(again.pid).not.toBe(started.pid);
    expect(await result({ op: "delete_user", user: name, remove_home: true })).toEqual({ deleted: true });
    expect(processUid(again.pid)).toBeNull();
    expect(passwd()).not.toContain(`${linux}:`);
    expect(() => statSync(made.home)).toThrow();
    expect(await result({ op: "delete_user", user: name, remove_home: true })).toEqual({ deleted: false });
  }, 90_000);

  test("over its socket: the server's user may ask, anyone else gets EACCES", async () => {
    const socketPath = join(base, "run/helper-socket/helper.sock");
    helper.listen(socketPath, server);
    try {
      const socket = statSync(socketPath);
      expect({ uid: socket.uid, mode: socket.mode & 0o777 }).toEqual({ uid: server.uid, mode: 0o600 });
      expect(connectAs(stranger, socketPath)).toBe("EACCES");
      expect(connectAs(server, socketPath)).toBe("ok");
      // A request and its answer, one JSON line each.
      const answers: string[] = [];
      const client = await Bun.connect({
        unix: socketPath,
        socket: { data: (_s, data) => void answers.push(Buffer.from(data).toString()) },
      });
      client.write(`${JSON.stringify({ id: 99, op: "stop_runner", user: "nobodyhere" })}\nnot json\n`);
      const deadline = Date.now() + 5000;
      while (answers.join("").split("\n").length < 3 && Date.now() < deadline) await Bun.sleep(20);
      const lines = answers
        .join("")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      // Answers come as each request is done, not necessarily in order.
      expect(lines).toHaveLength(2);
      expect(lines).toContainEqual({ id: 99, ok: true, result: { stopped: false } });
      expect(lines).toContainEqual({ id: null, ok: false, code: "invalid_request", error: "not JSON" });
      client.end();
    } finally {
      helper.stop();
    }
  });
});
