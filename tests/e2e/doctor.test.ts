/** `oqto doctor` against the real host: real bwrap, real pi, real files in isolated HOME/XDG dirs. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { type DoctorCheck, DoctorCheckSchema } from "../../src/cli/doctor-checks.ts";
import { runProcess } from "../helpers/run-process.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");
const root = mkdtempSync("/tmp/oqto-dr-");

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Host {
  home: string;
  configDir: string;
  dataDir: string;
  env: Record<string, string>;
}

let hosts = 0;
/** A fresh user: own HOME and XDG dirs, nothing written yet. */
function freshHost(path = process.env.PATH ?? "/usr/bin:/bin"): Host {
  const home = join(root, `h${++hosts}`);
  mkdirSync(home);
  const env = {
    PATH: path,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "cfg"),
    XDG_DATA_HOME: join(home, "data"),
  };
  return {
    home,
    configDir: join(env.XDG_CONFIG_HOME, "oqto"),
    dataDir: join(env.XDG_DATA_HOME, "oqto"),
    env,
  };
}

function writeSandboxFile(host: Host, text: string): string {
  mkdirSync(host.dataDir, { recursive: true, mode: 0o700 });
  const file = join(host.dataDir, "sandbox.toml");
  writeFileSync(file, text);
  return file;
}

const doctor = (host: Host, args: string[] = []) =>
  runProcess([process.execPath, MAIN, "doctor", ...args], { env: host.env });

async function doctorJson(host: Host): Promise<{ code: number; checks: DoctorCheck[] }> {
  const { code, stdout } = await doctor(host, ["--json"]);
  return { code, checks: z.array(DoctorCheckSchema).parse(JSON.parse(stdout)) };
}

function check(checks: DoctorCheck[], name: string): DoctorCheck {
  const found = checks.find((entry) => entry.check === name);
  if (!found) throw new Error(`no '${name}' check in ${JSON.stringify(checks)}`);
  return found;
}

describe("oqto doctor", () => {
  test("on this machine every check is ok, and nothing is written", async () => {
    const host = freshHost();
    const { code, stdout } = await doctor(host);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    const rows = lines.filter((line) => /^(ok|warn|fail) /.test(line));
    expect(rows.map((row) => row.split(/\s+/)[1])).toEqual([
      "config",
      "sandbox-file",
      "sandbox",
      "bwrap",
      "userns",
      "pi",
      "data-dir",
      "llm-keys",
    ]);
    expect(rows.every((row) => row.startsWith("ok "))).toBe(true);
    expect(lines.at(-1)).toBe("8 ok, 0 warning(s), 0 failed");
    const bwrapVersion = /^bubblewrap (\S+)/.exec(
      Bun.spawnSync(["bwrap", "--version"]).stdout.toString(),
    )?.[1];
    expect(stdout).toContain(`bubblewrap ${bwrapVersion}`);
    expect(stdout).toContain('a real sandbox (profile "development") started');
    expect(stdout).toMatch(/pi \d+\.\d+\.\d+ /);
    // The missing global file is reported with the default the runner would write, not created.
    expect(stdout).toContain(
      'sandbox.toml not present; the runner writes its default at first start (profile "development"',
    );
    expect(existsSync(host.configDir)).toBe(false);
    expect(existsSync(host.dataDir)).toBe(false);
  });

  test("--json prints every check with status, detail, and a fix for each warning or failure", async () => {
    const host = freshHost();
    mkdirSync(host.dataDir, { recursive: true, mode: 0o755 });
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(0);
    expect(checks).toHaveLength(8);
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

  test("without bwrap on PATH the bwrap check fails with the fix, and the exit code is 1", async () => {
    // Only what the doctor itself needs from PATH (bun, to run pi); bwrap is left out.
    const bin = join(root, "bin-no-bwrap");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "bun"));
    const host = freshHost(bin);
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(1);
    expect(check(checks, "bwrap")).toEqual({
      check: "bwrap",
      status: "fail",
      detail: expect.stringContaining("bubblewrap (bwrap) is not installed or not on PATH"),
      fix: expect.stringContaining("apt-get install bubblewrap"),
    });
    expect(check(checks, "userns")).toMatchObject({
      status: "warn",
      detail: "not checked: bubblewrap is missing",
    });
    expect(checks.filter((entry) => entry.status === "fail").map((entry) => entry.check)).toEqual(["bwrap"]);
  });

  test("an unknown key in the global sandbox file fails naming the file and the key", async () => {
    const host = freshHost();
    const file = writeSandboxFile(host, 'profile = "strict"\nallow_everything = true\n');
    const { code, stdout } = await doctor(host);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^fail  sandbox-file  ${file}: allow_everything: unknown key$`, "m"));
    expect(stdout).toContain(`fix: correct the key named above in ${file}`);
    // The sandbox counts as on (fail closed): the trial run still uses bwrap's namespaces.
    const { checks } = await doctorJson(host);
    expect(check(checks, "userns")).toMatchObject({ status: "ok", detail: expect.stringContaining("bare") });
  });

  test("an unknown profile name in the global sandbox file fails with the known ones", async () => {
    const host = freshHost();
    const file = writeSandboxFile(host, 'profile = "paranoid"\n');
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(1);
    expect(check(checks, "sandbox-file").detail).toBe(
      `${file}: profile: unknown profile 'paranoid' (known: minimal, development, strict)`,
    );
  });

  test("a valid global file reports its active profile and runs the trial sandbox under it", async () => {
    const host = freshHost();
    const file = writeSandboxFile(host, 'profile = "strict"\n');
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(0);
    expect(check(checks, "sandbox-file")).toEqual({
      check: "sandbox-file",
      status: "ok",
      detail: `${file}: profile "strict"`,
    });
    expect(check(checks, "userns").detail).toBe('a real sandbox (profile "strict") started and ran `true`');
  });

  test("enabled = false is a warning: agents would run unsandboxed", async () => {
    const host = freshHost();
    const file = writeSandboxFile(host, "enabled = false\n");
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(0);
    expect(check(checks, "sandbox")).toEqual({
      check: "sandbox",
      status: "warn",
      detail: "enabled = false: agents and terminals run UNSANDBOXED with all of this user's rights",
      fix: `set enabled = true in ${file}`,
    });
    expect(check(checks, "userns")).toMatchObject({ status: "ok", detail: expect.stringContaining("bare") });
  });

  test("a config error fails naming the key; pi is then not checked", async () => {
    const host = freshHost();
    const config = join(host.home, "bad.toml");
    writeFileSync(config, "[server]\nprot = 8080\n");
    const { code, stdout } = await doctor(host, ["--config", config, "--json"]);
    expect(code).toBe(1);
    const checks = z.array(DoctorCheckSchema).parse(JSON.parse(stdout));
    expect(check(checks, "config")).toMatchObject({
      status: "fail",
      detail: `invalid config ${config}: unknown key 'server.prot'`,
    });
    expect(check(checks, "pi")).toMatchObject({
      status: "warn",
      detail: "not checked: the config did not load",
    });
  });

  test("a pi.cli that does not exist fails the pi check", async () => {
    const host = freshHost();
    const config = join(host.home, "pi.toml");
    writeFileSync(config, `[pi]\ncli = "${join(host.home, "absent-cli.js")}"\n`);
    const { code, stdout } = await doctor(host, ["--config", config, "--json"]);
    expect(code).toBe(1);
    const pi = check(z.array(DoctorCheckSchema).parse(JSON.parse(stdout)), "pi");
    expect(pi.status).toBe("fail");
    expect(pi.detail).toBe(`pi cli not found at ${join(host.home, "absent-cli.js")}`);
  });

  test("a private data dir is ok; a file in its place fails", async () => {
    const host = freshHost();
    mkdirSync(host.dataDir, { recursive: true, mode: 0o700 });
    const ok = await doctorJson(host);
    expect(check(ok.checks, "data-dir")).toEqual({
      check: "data-dir",
      status: "ok",
      detail: `${host.dataDir} (mode 0700)`,
    });
    const file = join(host.home, "not-a-dir");
    writeFileSync(file, "");
    const { code, stdout } = await doctor(host, ["--data-dir", file, "--json"]);
    expect(code).toBe(1);
    expect(check(z.array(DoctorCheckSchema).parse(JSON.parse(stdout)), "data-dir")).toMatchObject({
      status: "fail",
      detail: `${file} exists but is not a directory`,
    });
  });

  test("--help prints the usage; an unknown flag is an error", async () => {
    const host = freshHost();
    const help = await doctor(host, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: oqto doctor");
    const bad = await doctor(host, ["--bogus"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
  });
});
