/** `oqto doctor` in single-user mode against the real host: real bwrap, real pi, real files in temp dirs. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestUser } from "../helpers/stack.ts";
import { check, doctor, doctorJson, freePort, freshHost, type Host, writeConfig } from "./harness.ts";

const root = mkdtempSync("/tmp/oqto-dr-");
chmodSync(root, 0o755);
// The unprivileged user a root serve runs its runner as ([server] run_as): real, removed afterwards.
const agent = createTestUser(join(root, "agent-home"), "oqtodr");

afterAll(() => {
  agent.remove();
  rmSync(root, { recursive: true, force: true });
});

const ALL_CHECKS = [
  "config",
  "sandbox-file",
  "sandbox",
  "bwrap",
  "userns",
  "pi",
  "bun",
  "port",
  "hstry",
  "eavs",
  "service-user",
  "data-dir",
  "etc-dir",
  "runtime-dir",
  "disk",
  "systemd",
  "clock",
  "backup",
  "llm-keys",
];

/** A host as install.sh --single-user leaves it for root: run_as set, a port of its own. */
function healthyHost(): Host {
  const host = freshHost(root);
  writeConfig(host, `[server]\nport = ${freePort()}\nrun_as = "${agent.name}"\n`);
  return host;
}

function writeSandboxFile(dataDir: string, text: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, "sandbox.toml");
  writeFileSync(file, text);
  return file;
}

describe("oqto doctor (single-user)", () => {
  test("on a healthy host every check is ok, the exit code 0, and nothing is written", async () => {
    const host = healthyHost();
    const { code, stdout } = await doctor(host);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    const rows = lines.filter((line) => /^(ok|warn|fail) /.test(line));
    expect(rows.map((row) => row.split(/\s+/)[1])).toEqual(ALL_CHECKS);
    expect(rows.filter((row) => !row.startsWith("ok "))).toEqual([]);
    expect(lines.at(-1)).toBe(`${ALL_CHECKS.length} ok, 0 warning(s), 0 failed`);
    const bwrapVersion = /^bubblewrap (\S+)/.exec(
      Bun.spawnSync(["bwrap", "--version"]).stdout.toString(),
    )?.[1];
    expect(stdout).toContain(`bubblewrap ${bwrapVersion}`);
    // As root, the trial also runs as the unprivileged account agents run as.
    expect(stdout).toContain(
      `a real sandbox (profile "development") started and ran \`true\`; bare namespaces as ${agent.name} too`,
    );
    expect(stdout).toMatch(/pi \d+\.\d+\.\d+ \(.*\), the version this oqto was built for/);
    expect(stdout).toContain(`Bun ${Bun.version}`);
    expect(stdout).toContain(`the runner runs as ${agent.name} (uid ${agent.uid})`);
    expect(stdout).toContain("not under systemd (PID 1 is");
    // The runner's sandbox file (in run_as's data dir) is reported with the default it would write.
    expect(stdout).toContain(
      `${join(root, "agent-home")}/.local/share/oqto/sandbox.toml not present; the runner writes its default at first start (profile "development"`,
    );
    expect(existsSync(host.dataDir)).toBe(false);
    expect(existsSync(join(root, "agent-home"))).toBe(false);
  });

  test("--json prints every check with status, detail, and a fix for each warning or failure", async () => {
    const host = healthyHost();
    mkdirSync(host.dataDir, { recursive: true, mode: 0o755 });
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(0);
    expect(checks.map((entry) => entry.check)).toEqual(ALL_CHECKS);
    for (const entry of checks) expect(entry.detail.length).toBeGreaterThan(0);
    const dataDir = check(checks, "data-dir");
    expect(dataDir).toEqual({
      check: "data-dir",
      status: "warn",
      detail: `${host.dataDir} has mode 0755: group/other may reach the database, JWT secret and runner socket`,
      fix: `chmod 700 ${host.dataDir}`,
    });
    expect(checks.filter((entry) => entry.status !== "ok")).toEqual([dataDir]);
  });

  test("as root without run_as: a warning that serve would refuse to start", async () => {
    const host = freshHost(root);
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(0);
    expect(check(checks, "service-user")).toMatchObject({
      status: "warn",
      detail: expect.stringContaining("serve refuses to start unless given --run-as USER"),
      fix: expect.stringContaining(`set run_as = "oqto" under [server] in ${host.configFile}`),
    });
  });

  test("an unknown key in the global sandbox file fails naming the file and the key", async () => {
    const host = freshHost(root);
    const file = writeSandboxFile(host.dataDir, 'profile = "strict"\nallow_everything = true\n');
    const { code, stdout } = await doctor(host);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^fail  sandbox-file  ${file}: allow_everything: unknown key$`, "m"));
    expect(stdout).toContain(`fix: correct the key named above in ${file}`);
    // The sandbox counts as on (fail closed): the trial run still uses bwrap's namespaces.
    const { checks } = await doctorJson(host);
    expect(check(checks, "userns")).toMatchObject({ status: "ok", detail: expect.stringContaining("bare") });
  });

  test("an unknown profile name in the global sandbox file fails with the known ones", async () => {
    const host = freshHost(root);
    const file = writeSandboxFile(host.dataDir, 'profile = "paranoid"\n');
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(1);
    expect(check(checks, "sandbox-file").detail).toBe(
      `${file}: profile: unknown profile 'paranoid' (known: minimal, development, strict)`,
    );
  });

  test("a valid global file reports its active profile and runs the trial sandbox under it", async () => {
    const host = freshHost(root);
    const file = writeSandboxFile(host.dataDir, 'profile = "strict"\n');
    const { checks } = await doctorJson(host);
    expect(check(checks, "sandbox-file")).toEqual({
      check: "sandbox-file",
      status: "ok",
      detail: `${file}: profile "strict"`,
    });
    expect(check(checks, "userns").detail).toBe('a real sandbox (profile "strict") started and ran `true`');
  });

  test("enabled = false is a warning: agents would run unsandboxed", async () => {
    const host = freshHost(root);
    const file = writeSandboxFile(host.dataDir, "enabled = false\n");
    const { checks } = await doctorJson(host);
    expect(check(checks, "sandbox")).toEqual({
      check: "sandbox",
      status: "warn",
      detail: "enabled = false: agents and terminals run UNSANDBOXED with all of this user's rights",
      fix: `set enabled = true in ${file}`,
    });
    expect(check(checks, "userns")).toMatchObject({ status: "ok", detail: expect.stringContaining("bare") });
  });

  test("a pi.cli that does not exist fails the pi check; bun is then checked alone", async () => {
    const host = freshHost(root);
    const config = join(host.home, "pi.toml");
    writeFileSync(config, `[pi]\ncli = "${join(host.home, "absent-cli.js")}"\n`);
    const { code, checks } = await doctorJson(host, ["--config", config]);
    expect(code).toBe(1);
    expect(check(checks, "pi")).toMatchObject({
      status: "fail",
      detail: `pi cli not found at ${join(host.home, "absent-cli.js")}`,
    });
    expect(check(checks, "bun")).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("pi's runtime not checked"),
    });
  });

  test("a pi of another version than the pinned one is a warning naming both", async () => {
    const host = freshHost(root);
    const pi = join(host.home, "pi", "dist");
    mkdirSync(pi, { recursive: true });
    writeFileSync(join(pi, "cli.js"), "");
    writeFileSync(join(host.home, "pi", "package.json"), JSON.stringify({ version: "0.0.1" }));
    const config = join(host.home, "old-pi.toml");
    writeFileSync(config, `[pi]\ncli = "${join(pi, "cli.js")}"\n`);
    const pinned = (await Bun.file(join(import.meta.dir, "../../package.json")).json()).dependencies[
      "@mariozechner/pi-coding-agent"
    ];
    const { checks } = await doctorJson(host, ["--config", config]);
    const piCheck = check(checks, "pi");
    expect(piCheck.status).toBe("warn");
    expect(piCheck.detail).toStartWith(`pi 0.0.1 (${join(pi, "cli.js")}`);
    expect(piCheck.detail).toEndWith(
      `but this oqto was built for pi ${pinned}: its RPC front end may not fit`,
    );
    expect(piCheck.fix).toStartWith(`point pi.cli at pi ${pinned}`);
  });

  test("a private data dir is ok; a file in its place fails", async () => {
    const host = freshHost(root);
    mkdirSync(host.dataDir, { recursive: true, mode: 0o700 });
    const ok = await doctorJson(host);
    expect(check(ok.checks, "data-dir")).toEqual({
      check: "data-dir",
      status: "ok",
      detail: `${host.dataDir} (mode 0700)`,
    });
    const file = join(host.home, "not-a-dir");
    writeFileSync(file, "");
    const { code, checks } = await doctorJson(host, ["--data-dir", file]);
    expect(code).toBe(1);
    expect(check(checks, "data-dir")).toMatchObject({
      status: "fail",
      detail: `${file} exists but is not a directory`,
    });
  });

  test("--help prints the usage; an unknown flag is an error", async () => {
    const host = freshHost(root);
    const help = await doctor(host, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: oqto doctor");
    expect(help.stdout).toContain("--proc-sys DIR");
    const bad = await doctor(host, ["--bogus"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
  });
});
