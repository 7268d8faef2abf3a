/**
 * Multi-user mode end to end, as root: two people register with invite codes, each chats with real
 * pi (fake LLM) whose write tool makes a file; each file, runner and pi process is that user's
 * Linux user with that user's groups only; the HTTP port is not served by uid 0; neither user
 * reaches the other's home, runner socket or processes (the kernel says no); invites cannot be
 * reused; a killed server's runners are adopted by the next one, never doubled.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { bashAs, cmdline, connectAs, procStatus, runnersOf } from "../helpers/linux-processes.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";

const isRoot = process.getuid?.() === 0;
const PASSWORD = "harbor-violet-engine-61";

let stack: MultiUserStack;

interface Person {
  name: string;
  token: string;
  uid: number;
  gid: number;
  home: string;
  workspace: string;
  mux: MuxClient;
  sessionId?: string;
}
const people: Person[] = [];

beforeAll(async () => {
  if (!isRoot) return;
  stack = await startMultiUserStack();
}, 60_000);

afterAll(async () => {
  for (const person of people) person.mux.close();
  await stack?.stop();
});

function api(token: string, method: string, path: string, body?: unknown) {
  return fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The process that listens on the stack's TCP port (from /proc/net/tcp and the fds). */
function listenerPid(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is hex ip:port; state 0A is LISTEN; field 9 is the inode.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A" && fields[9]) inodes.add(fields[9]);
    }
  }
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

async function chatWrite(person: Person, fileName: string, content: string): Promise<string> {
  const sessionId = newSessionId();
  const created = await person.mux.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: person.workspace },
  });
  expect(created.success).toBe(true);
  stack.fakeLlm.script([
    { match: `write ${fileName}`, toolCalls: [{ name: "write", arguments: { path: fileName, content } }] },
    { match: `write ${fileName}`, text: `wrote ${fileName}` },
  ]);
  const from = person.mux.frames.length;
  const prompt = await person.mux.command(sessionId, "prompt", { message: `write ${fileName}` });
  expect(prompt.success).toBe(true);
  await person.mux.event(sessionId, "agent.idle", from, 60_000);
  return sessionId;
}

describe.skipIf(!isRoot)("multi-user mode", () => {
  test("two users register with invites; their agents write files as their own Linux users", async () => {
    for (const name of ["alice", "bob"]) {
      const token = await stack.register(name, PASSWORD);
      const account = lookupAccount(`oqto_${name}`);
      expect(account.home).toBe(join(stack.homeBase, `oqto_${name}`));
      const ws = await api(token, "POST", "/api/workspaces", { name: "notes" });
      expect(ws.status).toBe(201);
      const workspace = ((await ws.json()) as { path: string }).path;
      expect(workspace).toBe(join(account.home, "oqto", "notes"));
      people.push({
        name,
        token,
        uid: account.uid,
        gid: account.gid,
        home: account.home,
        workspace,
        mux: await MuxClient.connect(stack.wsUrl, token),
      });
    }
    const [alice, bob] = people as [Person, Person];
    expect(alice.uid).not.toBe(bob.uid);
    for (const person of people) {
      person.sessionId = await chatWrite(person, `${person.name}.txt`, `from ${person.name}\n`);
      const file = join(person.workspace, `${person.name}.txt`);
      expect(readFileSync(file, "utf8")).toBe(`from ${person.name}\n`);
      expect({ uid: statSync(file).uid, gid: statSync(file).gid }).toEqual({
        uid: person.uid,
        gid: person.gid,
      });
      expect(statSync(person.home).mode & 0o777).toBe(0o700);
    }

    // Each runner and each pi process: that user's ids, that user's group only.
    for (const person of people) {
      const runners = runnersOf(person.uid);
      expect(runners).toHaveLength(1);
      const pis = processesOf(person.uid).filter((pid) => cmdline(pid).includes("rpc"));
      expect(pis.length).toBeGreaterThanOrEqual(1);
      for (const pid of [...runners, ...pis]) {
        const proc = procStatus(pid);
        expect((proc.Uid ?? "").split(/\s+/).map(Number)).toEqual([
          person.uid,
          person.uid,
          person.uid,
          person.uid,
        ]);
        expect((proc.Gid ?? "").split(/\s+/).map(Number)).toEqual([
          person.gid,
          person.gid,
          person.gid,
          person.gid,
        ]);
        expect((proc.Groups ?? "").trim()).toBe(String(person.gid));
      }
    }

    const health = (await (await fetch(`${stack.baseUrl}/api/health`)).json()) as { multi_user: boolean };
    expect(health.multi_user).toBe(true);
    // The HTTP port is the unprivileged server's, not root's.
    const listener = listenerPid(Number(new URL(stack.baseUrl).port));
    expect(procStatus(listener).Uid?.split(/\s+/)[0]).toBe(String(lookupAccount(stack.serviceUser).uid));
  }, 120_000);

  test("neither user reaches the other's home, runner socket or processes: the kernel refuses", async () => {
    const [alice, bob] = people as [Person, Person];
    for (const [me, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const otherSocket = join(stack.runtimeDir, "runners", `oqto_${other.name}`, "runner.sock");
      const otherRunner = runnersOf(other.uid)[0];
      const tries = bashAs(
        me,
        [
          `cat ${other.workspace}/${other.name}.txt`,
          `ls ${other.home}`,
          `ls ${join(stack.runtimeDir, "runners", `oqto_${other.name}`)}`,
          `kill -0 ${otherRunner}`,
        ].join("; "),
      );
      expect(tries).not.toContain(`from ${other.name}`);
      expect(tries.match(/Permission denied/g)?.length).toBe(3);
      expect(tries).toContain("Operation not permitted");
      // The runner socket: EACCES (the directory is the other user's and the server's group's).
      expect(connectAs(me, otherSocket)).toBe("EACCES");
    }
  });

  test("A using B's session, workspace, file, terminal, history and download ids gets 'not found'; B succeeds", async () => {
    const [alice, bob] = people as [Person, Person];
    const bobSession = bob.sessionId ?? "";
    // Over the WebSocket: B's session id.
    for (const [cmd, payload] of [
      ["get_state", {}],
      ["prompt", { message: "hi" }],
      ["session.subscribe", {}],
      ["session.create", { config: { harness: "pi", cwd: alice.workspace } }],
    ] as const) {
      const reply = await alice.mux.command(bobSession, cmd, payload);
      expect({ cmd, success: reply.success, code: reply.error_code }).toEqual({
        cmd,
        success: false,
        code: "session_not_found",
      });
    }
    expect((await bob.mux.command(bobSession, "get_state")).success).toBe(true);
    // B's workspace path, over the files channel.
    const files = (mux: MuxClient, workspacePath: string) => {
      const id = `f${Math.random()}`;
      const reply = mux.waitFor((f) => f.channel === "files" && f.id === id, 15_000, mux.frames.length);
      mux.send(
        JSON.stringify({ channel: "files", id, type: "list", workspace_path: workspacePath, path: "." }),
      );
      return reply;
    };
    expect((await files(alice.mux, bob.workspace)).code).toBe("path_not_allowed");
    expect((await files(bob.mux, bob.workspace)).type).not.toBe("error");
    // B's terminal id.
    const opened = await bob.mux.openTerminal(bob.workspace);
    expect(opened.type).toBe("opened");
    const terminalId = String(opened.terminal_id);
    for (const frame of [
      { type: "input", terminal_id: terminalId, data: "id\n" },
      { type: "resize", terminal_id: terminalId, cols: 100, rows: 30 },
      { type: "close", terminal_id: terminalId },
    ]) {
      const id = `t${Math.random()}`;
      const reply = alice.mux.waitFor(
        (f) => f.channel === "terminal" && f.id === id,
        15_000,
        alice.mux.frames.length,
      );
      alice.mux.send(JSON.stringify({ channel: "terminal", id, ...frame }));
      expect((await reply).code).toBe("not_found");
    }
    expect((await alice.mux.openTerminal(alice.workspace, { terminal_id: terminalId })).code).toBe(
      "not_found",
    );
    // REST: B's history, B's file and its download URL (A's own "notes" has no bob.txt).
    for (const path of [
      `/api/sessions/${bobSession}`,
      `/api/sessions/${bobSession}/messages`,
      "/api/workspaces/notes/files/bob.txt",
      "/api/workspaces/notes/files/bob.txt?download=1",
    ]) {
      const asAlice = await api(alice.token, "GET", path);
      expect({ path, status: asAlice.status }).toEqual({ path, status: 404 });
    }
    for (const path of [`/api/sessions/${bobSession}`, "/api/workspaces/notes/files/bob.txt?download=1"]) {
      const asBob = await api(bob.token, "GET", path);
      expect({ path, status: asBob.status }).toEqual({ path, status: 200 });
    }
    expect((await api(alice.token, "PATCH", `/api/sessions/${bobSession}`, { title: "mine" })).status).toBe(
      404,
    );
    expect((await api(alice.token, "DELETE", `/api/sessions/${bobSession}`)).status).toBe(404);
    const listed = await (await api(alice.token, "GET", "/api/sessions?workspace=notes")).text();
    expect(listed).not.toContain(bobSession);
  }, 60_000);

  test("an invite cannot be reused, and a refused registration leaves no account", async () => {
    const invite = await api(stack.admin.token, "POST", "/api/admin/invite-codes", { max_uses: 1 });
    const code = ((await invite.json()) as { invites: { code: string }[] }).invites[0]?.code;
    const register = (username: string) =>
      fetch(`${stack.baseUrl}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password: PASSWORD, invite_code: code }),
      });
    expect((await register("carol")).status).toBe(201);
    const again = await register("dave");
    expect(again.status).toBe(403);
    expect(((await again.json()) as { error: string }).error).toContain("invite code");
    expect(() => lookupAccount("oqto_dave")).toThrow();
    const login = await fetch(`${stack.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "dave", password: PASSWORD }),
    });
    expect(login.status).toBe(401);

    // A revoked and an expired code: refused the same way, no account.
    const more = await api(stack.admin.token, "POST", "/api/admin/invite-codes", { count: 1 });
    // (Sign-ins and registrations share a limit of 10 a minute per client: this file stays under it.)
    const [revoked] = ((await more.json()) as { invites: { id: string; code: string }[] }).invites;
    expect((await api(stack.admin.token, "DELETE", `/api/admin/invite-codes/${revoked?.id}`)).status).toBe(
      204,
    );
    const expired = await api(stack.admin.token, "POST", "/api/admin/invite-codes", { expires_in_s: 1 });
    const expiredCode = ((await expired.json()) as { invites: { code: string }[] }).invites[0]?.code;
    await Bun.sleep(1100);
    for (const [username, invite_code] of [
      ["erin", revoked?.code],
      ["finn", expiredCode],
    ]) {
      const res = await fetch(`${stack.baseUrl}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password: PASSWORD, invite_code }),
      });
      expect({ username, status: res.status }).toEqual({ username, status: 403 });
      expect(() => lookupAccount(`oqto_${username}`)).toThrow();
    }
  });

  test("multi-user mode needs root and says so", async () => {
    const nobody = bashAs(
      { uid: 65534, gid: 65534 },
      `${process.execPath} ${join(import.meta.dir, "../../src/cli/main.ts")} serve --multi-user --data-dir /tmp/none; echo "exit $?"`,
    );
    expect(nobody).toContain("multi-user mode needs root");
    expect(nobody).toContain("exit 2");
  });

  test("deactivation stops the user's runner, reactivation starts it on demand; deletion removes the Linux user", async () => {
    const bob = people[1] as Person;
    const bobId = ((await (await api(bob.token, "GET", "/api/me")).json()) as { id: string }).id;
    expect(runnersOf(bob.uid)).toHaveLength(1);
    expect(
      (await api(stack.admin.token, "PATCH", `/api/admin/users/${bobId}`, { is_active: false })).status,
    ).toBe(200);
    expect(runnersOf(bob.uid)).toEqual([]);
    expect(
      (await api(stack.admin.token, "PATCH", `/api/admin/users/${bobId}`, { is_active: true })).status,
    ).toBe(200);
    const login = await fetch(`${stack.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bob", password: PASSWORD }),
    });
    bob.token = ((await login.json()) as { token: string }).token;
    bob.mux.close();
    bob.mux = await MuxClient.connect(stack.wsUrl, bob.token);
    expect((await api(bob.token, "GET", "/api/workspaces")).status).toBe(200);
    expect(runnersOf(bob.uid)).toHaveLength(1);
    expect(readFileSync(join(bob.workspace, "bob.txt"), "utf8")).toBe("from bob\n");

    // carol (registered by the invite test): deleted with her data.
    const users = (await (await api(stack.admin.token, "GET", "/api/admin/users")).json()) as {
      users: { id: string; username: string }[];
    };
    const carol = users.users.find((u) => u.username === "carol");
    const carolHome = lookupAccount("oqto_carol").home;
    expect(
      (await api(stack.admin.token, "DELETE", `/api/admin/users/${carol?.id}?remove_data=1`)).status,
    ).toBe(204);
    expect(() => lookupAccount("oqto_carol")).toThrow();
    expect(() => statSync(carolHome)).toThrow();
  }, 60_000);

  test("a server killed with SIGKILL leaves its runners; the next one adopts them, never a second", async () => {
    const before = people.map((person) => runnersOf(person.uid));
    await stack.killServe("SIGKILL");
    for (const [index, person] of people.entries())
      expect(runnersOf(person.uid)).toEqual(before[index] ?? []);
    await stack.startServe();
    for (const [index, person] of people.entries()) {
      person.mux.close();
      person.mux = await MuxClient.connect(stack.wsUrl, person.token);
      const list = await api(person.token, "GET", "/api/workspaces");
      expect(list.status).toBe(200);
      expect(runnersOf(person.uid)).toEqual(before[index] ?? []);
    }
    await chatWrite(people[0] as Person, "after-restart.txt", "still here\n");
    expect(readFileSync(join((people[0] as Person).workspace, "after-restart.txt"), "utf8")).toBe(
      "still here\n",
    );
  }, 90_000);
});
