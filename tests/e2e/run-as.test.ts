/**
 * No agent, terminal or file operation runs as uid 0 (issue 10): serve as root refuses to start
 * without a user to run its runner as, the runner itself refuses root, and with `--run-as` the
 * runner runs with that user's ids and groups only. Needs root (CI runs as root).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess } from "../helpers/run-process.ts";
import { createTestUser, type Stack, startStack } from "../helpers/stack.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");
const asRoot = process.getuid?.() === 0;
const root = mkdtempSync("/tmp/oqto-runas-");
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root };
const oqto = (args: string[]) => runProcess([process.execPath, MAIN, ...args], { env });

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!asRoot)("as root", () => {
  const serveArgs = (name: string, extra: string[] = []) => [
    "serve",
    "--port",
    "0",
    "--data-dir",
    join(root, name),
    "--workspace-root",
    join(root, `${name}-ws`),
    ...extra,
  ];

  test("serve without multi-user mode and without --run-as refuses, naming the ways out", async () => {
    const { code, stdout, stderr } = await oqto(serveArgs("plain"));
    expect(code).toBe(2);
    expect(stdout).not.toContain("listening");
    expect(stderr).toContain("oqto serve refuses to run as root");
    expect(stderr).toContain("multi-user mode");
    expect(stderr).toContain("--run-as USER");
    expect(stderr).toContain('run_as = "USER"');
  });

  test("--run-as must name an existing, unprivileged user; run_as in the config is checked the same way", async () => {
    const rootUser = await oqto(serveArgs("as-root", ["--run-as", "root"]));
    expect(rootUser.code).toBe(2);
    expect(rootUser.stderr).toContain("run_as 'root' is root: it must name an unprivileged Linux user");
    const missing = await oqto(serveArgs("missing", ["--run-as", "oqto_nosuchuser"]));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no Linux user 'oqto_nosuchuser'");
    const file = join(root, "bad-run-as.toml");
    writeFileSync(file, '[server]\nrun_as = "Not A User"\n');
    const invalid = await oqto(serveArgs("invalid", ["--config", file]));
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("server.run_as must be a Linux user name");
  });

  test("--run-as refuses a serve data dir the runner's user could change", async () => {
    const home = join(root, "reach-home");
    const user = createTestUser(home, "oqtoreach");
    const serveWithData = (dataDir: string) =>
      oqto(["serve", "--port", "0", "--data-dir", dataDir, "--run-as", user.name]);
    try {
      const inHome = await serveWithData(join(home, ".local/share/oqto"));
      expect(inHome.code).toBe(2);
      expect(inHome.stderr).toContain(`is inside ${home}`);
      mkdirSync(join(root, "theirs"));
      chownSync(join(root, "theirs"), user.uid, user.gid);
      const owned = await serveWithData(join(root, "theirs/data"));
      expect(owned.code).toBe(2);
      expect(owned.stderr).toContain(`has '${join(root, "theirs")}', owned by that user`);
      expect(owned.stdout).not.toContain("listening");
    } finally {
      user.remove();
    }
  });

  test("the runner refuses to run as root on its own", async () => {
    const dataDir = join(root, "runner-data");
    mkdirSync(dataDir);
    const { code, stderr } = await oqto([
      "runner",
      "--data-dir",
      dataDir,
      "--workspace-root",
      join(root, "rws"),
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("oqto runner refuses to run as root");
    expect(stderr).toContain("--run-as USER");
  });
});

describe.skipIf(!asRoot)("serve --run-as USER", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ noProvider: true });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  test("runs the runner with the user's ids and groups only, and no capabilities", () => {
    const runAs = stack.runAs;
    if (!runAs) throw new Error("the stack runs --run-as when the tests run as root");
    const runners = readdirSync("/proc").filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return cmdline.includes("runner") && cmdline.includes(stack.runnerDataDir);
      } catch {
        return false;
      }
    });
    expect(runners.length).toBe(1);
    const status = readFileSync(`/proc/${runners[0]}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim();
    expect(field("Uid")?.split(/\s+/)).toEqual(Array(4).fill(String(runAs.uid)));
    expect(field("Gid")?.split(/\s+/)).toEqual(Array(4).fill(String(runAs.gid)));
    expect(field("Groups")).toBe(String(runAs.gid));
    expect(field("CapEff")).toBe("0000000000000000");
    expect(field("CapInh")).toBe("0000000000000000");
    // serve itself stays root (it will own multi-user's privileged parts); its runner does not.
    expect(stack.logs()).toContain(`runner runs as ${runAs.name} (uid ${runAs.uid})`);
  });
});
