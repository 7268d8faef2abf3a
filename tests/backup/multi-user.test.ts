/**
 * Multi-user backup and restore, as root: each platform user's history DB is taken from (and put
 * back into) its own `oqto_<name>` account; an account lost since the backup is made again the way
 * the privileged helper makes it, and the restored server serves that user's sessions and messages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { runProcess } from "../helpers/run-process.ts";
import { type ServedSession, servedSessions, treeListing } from "./helpers.ts";

const isRoot = process.getuid?.() === 0;
const SLOW = 180_000;
const REPO = resolve(import.meta.dir, "../..");
const PASSWORD = "harbor-violet-engine-61";
const suffix = Buffer.from(crypto.getRandomValues(new Uint8Array(3))).toString("hex");
const USERS = [`mbka${suffix}`, `mbkb${suffix}`];

let stack: MultiUserStack;
const tokens = new Map<string, string>();
const served = new Map<string, ServedSession[]>();
const scratch = mkdtempSync("/tmp/oqto-mu-backup-");
const backupFile = join(scratch, "mu.tar.gz");

/** The stack writes its config beside its data dir. */
const oqto = (args: string[]) =>
  runProcess(
    [
      process.execPath,
      join(REPO, "src/cli/main.ts"),
      ...args,
      "--config",
      join(dirname(stack.dataDir), "config.toml"),
      "--data-dir",
      stack.dataDir,
    ],
    { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch } },
  );

const historyOf = (name: string) => join(lookupAccount(`oqto_${name}`).home, ".local/share/oqto/history.db");

async function stopEverything(): Promise<void> {
  await stack.killServe("SIGTERM");
  // Runners outlive the server by design; a restore needs them (and their history services) gone.
  for (const name of USERS) {
    const uid = lookupAccount(`oqto_${name}`).uid;
    for (let round = 0; round < 40 && processesOf(uid).length > 0; round++) {
      for (const pid of processesOf(uid)) process.kill(pid, "SIGTERM");
      await Bun.sleep(100);
    }
  }
}

beforeAll(async () => {
  if (!isRoot) return;
  stack = await startMultiUserStack();
  for (const [i, name] of USERS.entries()) {
    const token = await stack.register(name, PASSWORD);
    tokens.set(name, token);
    const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "main" }),
    });
    expect(res.status).toBe(201);
    const cwd = ((await res.json()) as { path: string }).path;
    const mux = await MuxClient.connect(stack.wsUrl, token);
    const sessionId = newSessionId();
    expect((await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd } })).success).toBe(
      true,
    );
    await stack.fakeLlm.script([{ text: `answer for user ${i}` }]);
    const idle = mux.event(sessionId, "agent.idle", mux.frames.length, 60_000);
    expect((await mux.command(sessionId, "prompt", { message: `question of user ${i}` })).success).toBe(true);
    await idle;
    mux.close();
    served.set(name, await servedSessions(stack.baseUrl, token));
  }
}, SLOW);

afterAll(async () => {
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!isRoot)("multi-user backup and restore", () => {
  test(
    "the backup holds every account's history database",
    async () => {
      const backup = await oqto(["backup", "--out", backupFile]);
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(/: 3 users, 2 sessions, [4-9]\d* messages/);
      const manifest = JSON.parse(
        Bun.spawnSync(["tar", "-xzOf", backupFile, "manifest.json"]).stdout.toString(),
      );
      const owners = manifest.entries
        .filter((entry: { role: string }) => entry.role === "history-db")
        .map((entry: { owner: string }) => entry.owner)
        .sort();
      expect(owners).toEqual([...USERS].sort());
      // The admin never used a runner: there is no history of theirs to take, and that is said.
      expect(backup.stderr).toContain("no history taken for boss");
    },
    SLOW,
  );

  test(
    "refused while the runners' history services hold their databases",
    async () => {
      await stack.killServe("SIGTERM");
      const before = treeListing(stack.homeBase);
      const refused = await oqto(["restore", backupFile, "--force"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("a server is running on this install");
      expect(treeListing(stack.homeBase)).toEqual(before);
    },
    SLOW,
  );

  test(
    "a lost account is made again, its history back in it, and the server serves it",
    async () => {
      await stopEverything();
      const [lost, kept] = USERS as [string, string];
      const lostHome = lookupAccount(`oqto_${lost}`).home;
      expect(Bun.spawnSync(["userdel", "--remove", `oqto_${lost}`], { stderr: "pipe" }).exitCode).toBe(0);

      const restore = await oqto(["restore", backupFile, "--force"]);
      expect(restore.stderr).not.toContain("failed");
      expect(restore.code).toBe(0);
      expect(restore.stderr).toContain(`made the Linux account oqto_${lost}`);

      const account = lookupAccount(`oqto_${lost}`);
      expect(account.home).toBe(lostHome);
      const history = statSync(historyOf(lost));
      expect([history.uid, history.gid, history.mode & 0o777]).toEqual([account.uid, account.gid, 0o600]);
      for (const dir of [".local", ".local/share", ".local/share/oqto"]) {
        const stat = statSync(join(account.home, dir));
        expect([stat.uid, stat.mode & 0o777]).toEqual([account.uid, 0o700]);
      }
      expect(statSync(historyOf(kept)).uid).toBe(lookupAccount(`oqto_${kept}`).uid);
      const service = lookupAccount(stack.serviceUser);
      expect(statSync(join(stack.dataDir, "oqto.db")).uid).toBe(service.uid);

      await stack.startServe();
      for (const name of USERS) {
        expect(await servedSessions(stack.baseUrl, tokens.get(name) as string)).toEqual(
          served.get(name) as ServedSession[],
        );
      }
    },
    SLOW,
  );
});
