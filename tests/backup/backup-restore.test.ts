/**
 * `oqto backup` while a turn streams on a real stack (serve + runner + pi + history + fake LLM),
 * `oqto restore` into a fresh install, and a server started on it: the users, sessions and every
 * message come back. Broken archives and existing data are refused without changing a file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { LastBackupSchema } from "../../src/backup/last-backup.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { runProcess } from "../helpers/run-process.ts";
import { createTestUser, type Stack, spawnServe, startStack, type TestUser } from "../helpers/stack.ts";
import { type ServedSession, servedSessions, treeListing } from "./helpers.ts";

const SLOW = 180_000;
const REPO = resolve(import.meta.dir, "../..");
const OQTO = [process.execPath, join(REPO, "src/cli/main.ts")];
const BOB = { name: "bob", password: "staple-battery-horse-correct" };

let stack: Stack;
let client: MuxClient;
let bobToken: string;
const scratch = mkdtempSync("/tmp/oqto-backup-test-");
const backupFile = join(scratch, "full.tar.gz");
/** What the first server served right after the streaming turn ended. */
let servedAfter: { admin: ServedSession[]; bob: ServedSession[] };
let streamingSession: string;

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${stack.baseUrl}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function turn(mux: MuxClient, sessionId: string, message: string): Promise<void> {
  const idle = mux.event(sessionId, "agent.idle", mux.frames.length, 60_000);
  expect((await mux.command(sessionId, "prompt", { message })).success).toBe(true);
  await idle;
}

async function newSession(mux: MuxClient, cwd: string): Promise<string> {
  const sessionId = newSessionId();
  expect((await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd } })).success).toBe(
    true,
  );
  return sessionId;
}

const runAsArgs = (user: TestUser | undefined) => (user ? ["--run-as", user.name] : []);

beforeAll(async () => {
  stack = await startStack();
  const workspace = await api("POST", "/workspaces", stack.admin.token, { name: "main" });
  expect(workspace.status).toBe(201);
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const cwd = workspace.json.path as string;
  const done = await newSession(client, cwd);
  await stack.fakeLlm.script([{ text: "first answer, complete" }]);
  await turn(client, done, "a question that finishes");

  bobToken = await stack.addUser(BOB.name, BOB.password);
  const bobWorkspace = await api("POST", "/workspaces", bobToken, { name: "bobs" });
  expect(bobWorkspace.status).toBe(201);
  const bobClient = await MuxClient.connect(stack.wsUrl, bobToken);
  const bobs = await newSession(bobClient, bobWorkspace.json.path as string);
  await stack.fakeLlm.script([{ text: "bob's answer" }]);
  await turn(bobClient, bobs, "bob asks");
  bobClient.close();

  streamingSession = await newSession(client, cwd);
  await stack.fakeLlm.script([{ text: "an earlier answer" }]);
  await turn(client, streamingSession, "before the long one");
}, SLOW);

afterAll(async () => {
  client?.close();
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("backup while a turn streams", () => {
  test(
    "makes a 0600 archive, records it in last-backup.json, and the turn goes on",
    async () => {
      await stack.fakeLlm.script([{ text: Array.from({ length: 16 }, (_, i) => `part${i} `), delayMs: 250 }]);
      const from = client.frames.length;
      const idle = client.event(streamingSession, "agent.idle", from, 60_000);
      expect((await client.command(streamingSession, "prompt", { message: "the long one" })).success).toBe(
        true,
      );
      await client.event(streamingSession, "stream.text_delta", from, 30_000);

      const backup = await stack.cli(["backup", "--out", backupFile, ...runAsArgs(stack.runAs)]);
      expect(backup.stderr).toContain("snapshot of the platform database");
      expect(backup.code).toBe(0);
      // Still streaming when the backup was done: the snapshot was taken mid-turn.
      expect(
        client.frames.slice(from).some((f) => f.session_id === streamingSession && f.event === "agent.idle"),
      ).toBe(false);
      expect(backup.stdout).toMatch(
        /backup written: .*full\.tar\.gz \(\d+ bytes.*\): 2 users, 3 sessions, \d+ messages/,
      );
      expect(statSync(backupFile).mode & 0o777).toBe(0o600);

      const last = LastBackupSchema.parse(
        JSON.parse(readFileSync(join(stack.dataDir, "last-backup.json"), "utf8")),
      );
      expect(last.file).toBe(backupFile);
      expect(last.bytes).toBe(statSync(backupFile).size);
      expect(statSync(join(stack.dataDir, "last-backup.json")).mode & 0o777).toBe(0o600);

      await idle;
      servedAfter = {
        admin: await servedSessions(stack.baseUrl, stack.admin.token),
        bob: await servedSessions(stack.baseUrl, bobToken),
      };
      // A second backup to the same name is refused rather than overwriting it.
      const again = await stack.cli(["backup", "--out", backupFile, ...runAsArgs(stack.runAs)]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("exists");
    },
    SLOW,
  );
});

/** A fresh install: its own root, data dir, config and (as root) runner user; nothing restored yet. */
interface FreshInstall {
  root: string;
  dataDir: string;
  configFile: string;
  runAs: TestUser | undefined;
  env: Record<string, string>;
  oqto: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  remove: () => void;
}

function freshInstall(): FreshInstall {
  const root = mkdtempSync("/tmp/oqto-restored-");
  const home = join(root, "home");
  const workspaceRoot = join(root, "ws");
  mkdirSync(home);
  mkdirSync(workspaceRoot);
  const runAs = process.getuid?.() === 0 ? createTestUser(home, "oqtobak") : undefined;
  if (runAs) {
    chmodSync(root, 0o755);
    for (const dir of [home, workspaceRoot]) chownSync(dir, runAs.uid, runAs.gid);
  }
  const configFile = join(root, "config.toml");
  writeFileSync(
    configFile,
    `[server]\nhost = "127.0.0.1"\nport = 0\nworkspace_root = ${JSON.stringify(workspaceRoot)}\n\n[runner]\npool_size = 0\n\n[pi]\nextra_args = ["--no-context-files", "--no-extensions", "--no-skills", "--no-prompt-templates", "--no-themes"]\n`,
  );
  const dataDir = join(root, "data");
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_STATE_HOME: join(home, ".local/state"),
  };
  return {
    root,
    dataDir,
    configFile,
    runAs,
    env,
    oqto: (args) =>
      runProcess([...OQTO, ...args, "--config", configFile, "--data-dir", dataDir, ...runAsArgs(runAs)], {
        env,
      }),
    remove: () => {
      rmSync(root, { recursive: true, force: true });
      runAs?.remove();
    },
  };
}

async function signIn(baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Restored messages are what the first server served, the streaming session cut where the snapshot was. */
function expectRestored(restored: ServedSession[], served: ServedSession[]): void {
  expect(restored.map((s) => s.session_id)).toEqual(served.map((s) => s.session_id));
  for (const [i, session] of restored.entries()) {
    const original = served[i] as ServedSession;
    if (session.session_id !== streamingSession) {
      expect(session.messages).toEqual(original.messages);
      continue;
    }
    // The earlier turn and the prompt of the streaming one were in history when the snapshot was taken.
    expect(session.messages.length).toBeGreaterThanOrEqual(3);
    const complete = session.messages.slice(0, -1);
    expect(complete).toEqual(original.messages.slice(0, complete.length));
    const last = session.messages.at(-1) as ServedSession["messages"][number];
    const same = original.messages[session.messages.length - 1];
    expect(last.id).toBe(same?.id as string);
    expect(same?.text.startsWith(last.text.replace(/\|$/, ""))).toBe(true);
  }
}

describe("restore into a fresh install", () => {
  let target: FreshInstall;
  let serve: Subprocess | undefined;
  beforeAll(() => {
    target = freshInstall();
  });
  afterAll(async () => {
    serve?.kill("SIGKILL");
    await serve?.exited;
    target.remove();
  });

  test(
    "a server started on it serves the same users, sessions and messages",
    async () => {
      const restore = await target.oqto(["restore", backupFile, "--no-config"]);
      expect(restore.stderr).not.toContain("refuse");
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(/: 2 users, 3 sessions, \d+ messages/);
      const history = join(
        target.runAs ? join(target.root, "home") : target.dataDir,
        target.runAs ? ".local/share/oqto/history.db" : "history.db",
      );
      expect(statSync(history).mode & 0o777).toBe(0o600);
      if (target.runAs) expect(statSync(history).uid).toBe(target.runAs.uid);
      expect(statSync(join(target.dataDir, "oqto.db")).mode & 0o777).toBe(0o600);
      // --no-config: this install's config stays as it was.
      expect(readFileSync(target.configFile, "utf8")).toContain(join(target.root, "ws"));

      const output: string[] = [];
      const started = await spawnServe(
        [
          ...OQTO,
          "serve",
          "--config",
          target.configFile,
          "--data-dir",
          target.dataDir,
          ...runAsArgs(target.runAs),
        ],
        target.env,
        output,
      );
      serve = started.serve;
      const baseUrl = `http://127.0.0.1:${started.port}`;
      const adminToken = await signIn(baseUrl, stack.admin.username, stack.admin.password);
      const restoredBob = await signIn(baseUrl, BOB.name, BOB.password);
      expectRestored(await servedSessions(baseUrl, adminToken), servedAfter.admin);
      expectRestored(await servedSessions(baseUrl, restoredBob), servedAfter.bob);

      // While that server runs, a restore onto it is refused, whatever --force says.
      const before = treeListing(target.root);
      const running = await target.oqto(["restore", backupFile, "--no-config", "--force"]);
      expect(running.code).toBe(1);
      expect(running.stderr).toContain("a server is running on this install");
      expect(treeListing(target.root)).toEqual(before);
    },
    SLOW,
  );

  test(
    "over existing data: refused without --force, moved aside (not deleted) with it",
    async () => {
      serve?.kill("SIGTERM");
      await serve?.exited;
      serve = undefined;
      const before = treeListing(target.root);
      const refused = await target.oqto(["restore", backupFile, "--no-config"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("this install has data the backup would replace");
      expect(refused.stderr).toContain("--force");
      expect(refused.stderr.trim().split("\n").at(-1)).toMatch(/^oqto restore: /);
      expect(treeListing(target.root)).toEqual(before);

      const platformDb = readFileSync(join(target.dataDir, "oqto.db"));
      const forced = await target.oqto(["restore", backupFile, "--no-config", "--force"]);
      expect(forced.code).toBe(0);
      const aside = forced.stderr.match(/kept the old file as (\S+oqto\.db\.pre-restore-\S+)/)?.[1];
      expect(aside).toBeDefined();
      expect(readFileSync(aside as string).equals(platformDb)).toBe(true);
    },
    SLOW,
  );
});

describe("broken backups are refused and change nothing", () => {
  let target: FreshInstall;
  beforeAll(async () => {
    target = freshInstall();
    // A target with data in it: the listing must be identical after every refused restore.
    const seeded = await target.oqto(["restore", backupFile, "--no-config"]);
    expect(seeded.code).toBe(0);
  }, SLOW);
  afterAll(() => target.remove());

  async function expectRefused(file: string, why: RegExp): Promise<void> {
    const before = treeListing(target.root);
    const result = await target.oqto(["restore", file, "--force"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(why);
    expect(result.stderr).not.toContain("    at ");
    expect(treeListing(target.root)).toEqual(before);
  }

  test(
    "a truncated file",
    async () => {
      const bytes = readFileSync(backupFile);
      const truncated = join(scratch, "truncated.tar.gz");
      writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await expectRefused(
        truncated,
        /truncated\.tar\.gz is not a readable backup archive \(truncated or corrupt\?\)/,
      );
    },
    SLOW,
  );

  test(
    "a file with bytes flipped in the middle",
    async () => {
      const bytes = Buffer.from(readFileSync(backupFile));
      for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 64; i++)
        bytes.writeUInt8(bytes.readUInt8(i) ^ 0xff, i);
      const corrupt = join(scratch, "corrupt.tar.gz");
      writeFileSync(corrupt, bytes);
      await expectRefused(
        corrupt,
        /corrupt\.tar\.gz (is not a readable backup archive|cannot be unpacked|.*sha256)/,
      );
    },
    SLOW,
  );

  test(
    "an intact archive whose database no longer matches its manifest",
    async () => {
      const unpacked = join(scratch, "unpacked");
      mkdirSync(unpacked);
      expect(Bun.spawnSync(["tar", "-xzf", backupFile, "-C", unpacked]).exitCode).toBe(0);
      const db = Buffer.from(readFileSync(join(unpacked, "files/oqto.db")));
      db.writeUInt8(db.readUInt8(db.length - 100) ^ 0x01, db.length - 100);
      writeFileSync(join(unpacked, "files/oqto.db"), db);
      const tampered = join(scratch, "tampered.tar.gz");
      const members = Bun.spawnSync(["tar", "-tzf", backupFile]).stdout.toString().trim().split("\n");
      expect(Bun.spawnSync(["tar", "-czf", tampered, "-C", unpacked, ...members]).exitCode).toBe(0);
      await expectRefused(tampered, /files\/oqto\.db does not match its sha256 in the manifest/);
    },
    SLOW,
  );

  test(
    "a manifest that is not ours",
    async () => {
      const unpacked = join(scratch, "bad-manifest");
      mkdirSync(unpacked);
      expect(Bun.spawnSync(["tar", "-xzf", backupFile, "-C", unpacked]).exitCode).toBe(0);
      const manifest = JSON.parse(readFileSync(join(unpacked, "manifest.json"), "utf8"));
      manifest.format_version = 99;
      writeFileSync(join(unpacked, "manifest.json"), JSON.stringify(manifest));
      const file = join(scratch, "bad-manifest.tar.gz");
      const members = Bun.spawnSync(["tar", "-tzf", backupFile]).stdout.toString().trim().split("\n");
      expect(Bun.spawnSync(["tar", "-czf", file, "-C", unpacked, ...members]).exitCode).toBe(0);
      await expectRefused(file, /has an invalid manifest \(format_version/);
    },
    SLOW,
  );
});

describe("the config comes back too", () => {
  test(
    "with no config on the target, the backup's config file is written where this install reads it",
    async () => {
      const root = mkdtempSync("/tmp/oqto-restored-config-");
      try {
        const env = {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: root,
          XDG_CONFIG_HOME: join(root, "cfg"),
        };
        const result = await runProcess([...OQTO, "restore", backupFile, "--data-dir", join(root, "data")], {
          env,
        });
        expect(result.code).toBe(0);
        const configFile = join(root, "cfg/oqto/config.toml");
        const original = Bun.spawnSync(["tar", "-xzOf", backupFile, "files/config.toml"]).stdout.toString();
        expect(readFileSync(configFile, "utf8")).toBe(original);
        expect(original).toContain("workspace_root");
        // Without run_as the runner's data dir is serve's: the sandbox file lands there.
        expect(existsSync(join(root, "data/sandbox.toml"))).toBe(true);
        expect(statSync(join(root, "data/jwt-secret")).mode & 0o777).toBe(0o600);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    SLOW,
  );
});
