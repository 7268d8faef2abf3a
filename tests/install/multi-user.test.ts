/**
 * install.sh in multi-user mode as far as a machine without systemd allows: the unit passes
 * `systemd-analyze verify`; the service user, directories and modes are as docs/OPERATIONS.md says;
 * the server started the way the unit starts it (its ExecStart and Environment, as root, with the
 * unit's NoNewPrivileges) runs its web server as the service user and answers; a second run keeps
 * everything; --purge removes it all. Every root the installer writes is a scratch one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { procStatus, removeLinuxUser } from "../helpers/linux-processes.ts";
import { runProcess } from "../helpers/run-process.ts";
import { spawnServe } from "../helpers/stack.ts";
import {
  prebuiltBinary,
  runInstaller,
  scratchRoot,
  uidOf,
  uniqueUserName,
  userExists,
} from "./installer-harness.ts";

const root = scratchRoot("multi");
const prefix = join(root, "prefix");
const etcDir = join(root, "etc/oqto");
const configFile = join(etcDir, "config.toml");
const unitFile = join(root, "etc/systemd/system/oqto.service");
const serviceUser = uniqueUserName();
const dirs = {
  data: join(root, "lib/oqto"),
  home: join(root, "home"),
  log: join(root, "log/oqto"),
  // Under /run, as the default is: the unit then has systemd make it (RuntimeDirectory).
  runtime: `/run/${serviceUser}`,
};
const CONFIG = `[server]
host = "127.0.0.1"
port = 0
multi_user = true

[multi_user]
service_user = "${serviceUser}"
data_dir = "${dirs.data}"
home_base = "${dirs.home}"
runtime_dir = "${dirs.runtime}"
log_dir = "${dirs.log}"
`;

let serve: Subprocess | undefined;

beforeAll(() => {
  prebuiltBinary();
  // An administrator's config, kept by the installer: here it points every path into the scratch root.
  Bun.spawnSync(["mkdir", "-p", etcDir]);
  writeFileSync(configFile, CONFIG, { mode: 0o644 });
});

afterAll(async () => {
  serve?.kill("SIGKILL");
  await removeLinuxUser(serviceUser);
  rmSync(dirs.runtime, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

/** `Key=value` lines of the unit's [Service] section, in order (a key may repeat). */
function unitEntries(key: string): string[] {
  return readFileSync(unitFile, "utf8")
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** The server as the unit starts it, as root: its ExecStart, only its Environment, and NoNewPrivileges=yes (setpriv's --no-new-privs). */
function startLikeTheUnit(output: string[]) {
  const env = Object.fromEntries(
    unitEntries("Environment").map((entry) => [
      entry.slice(0, entry.indexOf("=")),
      entry.slice(entry.indexOf("=") + 1),
    ]),
  );
  const execStart = (unitEntries("ExecStart")[0] ?? "").split(" ");
  return spawnServe(["setpriv", "--no-new-privs", "--", ...execStart], env, output);
}

const mode = (path: string) => statSync(path).mode & 0o7777;
const owner = (path: string) => statSync(path).uid;

describe("a multi-user install without systemd", () => {
  test("installs the unit (not started: no systemd here) and says how to start it", async () => {
    const result = await runInstaller(root, ["--multi-user", "--prefix", prefix, "--no-start"]);
    expect(result.stderr).not.toContain("failed while");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`keeping ${configFile}`);
    expect(result.stdout).toContain(`${prefix}/bin/oqto serve --multi-user --config ${configFile}`);
  }, 30_000);

  test.skipIf(!existsSync("/usr/bin/systemd-analyze"))("the unit passes systemd-analyze verify", async () => {
    const verify = await runProcess(["systemd-analyze", "verify", unitFile]);
    expect(verify.stdout + verify.stderr).toBe("");
    expect(verify.code).toBe(0);
  });

  test("the unit runs the installed binary, hardened, and stops every process it started", () => {
    expect(unitEntries("ExecStart")).toEqual([
      `${prefix}/bin/oqto serve --multi-user --config ${configFile}`,
    ]);
    expect(unitEntries("KillMode")).toEqual(["control-group"]);
    expect(unitEntries("Restart")).toEqual(["on-failure"]);
    expect(unitEntries("NoNewPrivileges")).toEqual(["yes"]);
    expect(unitEntries("ProtectSystem")).toEqual(["strict"]);
    expect(unitEntries("PrivateTmp")).toEqual(["yes"]);
    expect(unitEntries("RuntimeDirectory")).toEqual([serviceUser]);
    const writable = unitEntries("ReadWritePaths")[0]?.split(" ") ?? [];
    for (const path of ["/etc", dirs.data, dirs.log, dirs.home]) expect(writable).toContain(path);
    expect(mode(unitFile)).toBe(0o644);
  });

  test("the service user, directories and modes are as documented", () => {
    const passwd = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((line) => line.split(":"))
      .find((fields) => fields[0] === serviceUser);
    expect(passwd).toBeDefined();
    const [, , uid, , , home, shell] = passwd as string[];
    expect(Number(uid)).toBeLessThan(1000);
    expect(home).toBe(dirs.data);
    expect(shell).toBe("/usr/sbin/nologin");
    const service = uidOf(serviceUser);
    expect([mode(dirs.data), owner(dirs.data)]).toEqual([0o700, service]);
    expect([mode(dirs.log), owner(dirs.log)]).toEqual([0o750, 0]);
    expect([mode(etcDir), owner(etcDir)]).toEqual([0o755, 0]);
    expect([mode(configFile), owner(configFile)]).toEqual([0o644, 0]);
    const sandbox = join(etcDir, "sandbox.toml");
    expect([mode(sandbox), owner(sandbox)]).toEqual([0o644, 0]);
    expect(readFileSync(sandbox, "utf8")).toContain('profile = "development"');
    expect(
      existsSync(join(prefix, "lib/oqto/pi/node_modules/@mariozechner/pi-coding-agent/dist/cli.js")),
    ).toBe(true);
  });

  test("started as the unit starts it, the web server runs as the service user and answers", async () => {
    expect(unitEntries("Environment").some((entry) => entry.startsWith("PATH="))).toBe(true);
    const output: string[] = [];
    const started = await startLikeTheUnit(output);
    serve = started.serve;
    const health = (await (await fetch(`http://127.0.0.1:${started.port}/api/health`)).json()) as {
      multi_user: boolean;
    };
    expect(health.multi_user).toBe(true);
    const service = uidOf(serviceUser);
    const servers = processesOf(service).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--helper-socket"),
    );
    expect(servers).toHaveLength(1);
    const status = procStatus(servers[0] as number);
    expect(status.Uid?.split(/\s+/)).toEqual(Array(4).fill(String(service)));
    expect(status.NoNewPrivs).toBe("1");
    expect(procStatus(serve.pid).Uid?.split(/\s+/)[0]).toBe("0");
    // No admin yet: the token for /setup is printed (into the journal, under systemd).
    expect(output.join("")).toContain("one-time setup token");

    serve.kill("SIGTERM");
    await serve.exited;
    serve = undefined;
    const deadline = Date.now() + 10_000;
    while (processesOf(service).length > 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(processesOf(service)).toEqual([]);
  }, 40_000);

  test("the offline first admin of docs/OPERATIONS.md works, and then no setup token is printed", async () => {
    const added = await runProcess(
      [
        "runuser",
        "-u",
        serviceUser,
        "--",
        join(prefix, "bin/oqto"),
        "user",
        "add",
        "alice",
        "--admin",
        "--password-stdin",
        "--config",
        configFile,
        "--data-dir",
        dirs.data,
      ],
      { stdin: "correct-horse-battery-staple\n" },
    );
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const output: string[] = [];
    const started = await startLikeTheUnit(output);
    serve = started.serve;
    const login = await fetch(`http://127.0.0.1:${started.port}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "correct-horse-battery-staple" }),
    });
    expect(login.status).toBe(200);
    expect(output.join("")).not.toContain("one-time setup token");
    serve.kill("SIGTERM");
    await serve.exited;
    serve = undefined;
  }, 40_000);

  test("with NoNewPrivileges the service user can still start a real bubblewrap sandbox", async () => {
    const service = uidOf(serviceUser);
    const doctor = await runProcess(
      [
        "setpriv",
        "--no-new-privs",
        "--reuid",
        String(service),
        "--regid",
        String(service),
        "--init-groups",
        "--",
        join(prefix, "bin/oqto"),
        "doctor",
        "--json",
        "--data-dir",
        join(dirs.data, "doctor-probe"),
      ],
      { env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: dirs.data }, cwd: dirs.data },
    );
    const checks = JSON.parse(doctor.stdout) as { check: string; status: string; detail: string }[];
    expect(checks.find((check) => check.check === "userns")).toMatchObject({ status: "ok" });
  }, 20_000);

  test("a second run keeps config, sandbox file, unit and data", async () => {
    const before = {
      config: readFileSync(configFile, "utf8"),
      sandbox: readFileSync(join(etcDir, "sandbox.toml"), "utf8"),
      unit: statSync(unitFile).mtimeMs,
    };
    const result = await runInstaller(root, ["--prefix", prefix, "--no-start"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("multi-user install");
    expect(result.stdout).toContain("is unchanged");
    expect(readFileSync(configFile, "utf8")).toBe(before.config);
    expect(readFileSync(join(etcDir, "sandbox.toml"), "utf8")).toBe(before.sandbox);
    expect(statSync(unitFile).mtimeMs).toBe(before.unit);
    expect(existsSync(join(dirs.data, "oqto.db"))).toBe(true);
  }, 30_000);

  test("--uninstall --purge removes the unit, binary, config, data, logs and the service user", async () => {
    const result = await runInstaller(root, ["--uninstall", "--purge", "--prefix", prefix]);
    expect(result.code).toBe(0);
    for (const path of [
      unitFile,
      join(prefix, "bin/oqto"),
      join(prefix, "lib/oqto"),
      etcDir,
      dirs.data,
      dirs.log,
    ])
      expect(existsSync(path)).toBe(false);
    expect(userExists(serviceUser)).toBe(false);
  });
});
