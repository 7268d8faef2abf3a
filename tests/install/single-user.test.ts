/**
 * install.sh in single-user mode, as CI runs it (root, no systemd): into a scratch prefix and data
 * dir, the installed `oqto serve` answering; a second run that changes nothing; --uninstall that
 * keeps data and config; --purge that removes the rest. Plus the script's own hygiene (shellcheck,
 * --help, a failure that names its step).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { removeLinuxUser } from "../helpers/linux-processes.ts";
import { runProcess } from "../helpers/run-process.ts";
import { spawnServe } from "../helpers/stack.ts";
import {
  INSTALL_SH,
  prebuiltBinary,
  runInstaller,
  scratchRoot,
  uniqueUserName,
  userExists,
} from "./installer-harness.ts";

const root = scratchRoot("single");
const prefix = join(root, "prefix");
const dataDir = join(root, "data");
const configFile = join(root, "config/oqto/config.toml");
const manifest = join(root, "config/oqto/install.manifest");
const installed = join(prefix, "bin/oqto");
const piDir = join(prefix, "lib/oqto/pi");
// As root, the runner needs an unprivileged user: the installer makes it.
const runAs = uniqueUserName();
const installArgs = [
  "--single-user",
  "--prefix",
  prefix,
  "--data-dir",
  dataDir,
  "--port",
  "0",
  "--run-as",
  runAs,
];
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/root",
  XDG_CONFIG_HOME: join(root, "config"),
};
const admin = { username: "firstadmin", password: "correct-horse-battery-staple" };

let serve: Subprocess | undefined;

beforeAll(() => {
  prebuiltBinary();
});

afterAll(async () => {
  serve?.kill("SIGKILL");
  await removeLinuxUser(runAs);
  rmSync(root, { recursive: true, force: true });
});

const users = async () =>
  (await runProcess([installed, "user", "list", "--config", configFile, "--data-dir", dataDir], { env }))
    .stdout;

describe("install.sh as a script", () => {
  test("is shellcheck-clean", async () => {
    const result = await runProcess(["shellcheck", "--severity=style", INSTALL_SH]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("--help lists every option; an unknown option is refused", async () => {
    const help = await runProcess(["bash", INSTALL_SH, "--help"]);
    expect(help.code).toBe(0);
    for (const option of [
      "--single-user",
      "--multi-user",
      "--prefix",
      "--data-dir",
      "--port",
      "--host",
      "--no-start",
      "--uninstall",
      "--purge",
    ])
      expect(help.stdout).toContain(option);
    const bad = await runProcess(["bash", INSTALL_SH, "--prefx", "/x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unknown option '--prefx'");
  });

  test("a failing step is named, with what to do, and a non-zero exit", async () => {
    const failRoot = scratchRoot("fail");
    try {
      const config = join(failRoot, "config/oqto/config.toml");
      await Bun.write(config, "[server]\nprot = 8080\n");
      const result = await runInstaller(failRoot, ["--single-user", "--prefix", join(failRoot, "prefix")]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("unknown key 'server.prot'");
      expect(result.stderr).toContain("install.sh: failed while checking");
      expect(result.stderr).toContain("run install.sh again");
      // Nothing was started, and the administrator's file is left as it was.
      expect(readFileSync(config, "utf8")).toBe("[server]\nprot = 8080\n");
    } finally {
      rmSync(failRoot, { recursive: true, force: true });
    }
  });
});

describe("a single-user install", () => {
  test("installs the binary, pi, the runner's user and a config; says how to start it", async () => {
    const result = await runInstaller(root, installArgs);
    expect(result.stderr).not.toContain("failed while");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Start it with: ${installed} serve --config ${configFile} --data-dir ${dataDir}`,
    );
    expect(readFileSync(installed).equals(readFileSync(prebuiltBinary()))).toBe(true);
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(existsSync(join(piDir, "node_modules/@mariozechner/pi-coding-agent/dist/cli.js"))).toBe(true);
    expect(userExists(runAs)).toBe(true);
    const config = readFileSync(configFile, "utf8");
    expect(config).toContain(`run_as = "${runAs}"`);
    expect(config).toContain("port = 0");
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    // What --purge will need later, beside the config that --uninstall keeps.
    const recorded = readFileSync(manifest, "utf8");
    expect(recorded).toContain(`prefix=${prefix}\n`);
    expect(recorded).toContain(`created_user=${runAs}\n`);
  });

  test("the installed binary finds pi under its own prefix", async () => {
    const doctor = await runProcess(
      [installed, "doctor", "--json", "--config", configFile, "--data-dir", dataDir],
      {
        env,
      },
    );
    const checks = JSON.parse(doctor.stdout) as { check: string; status: string; detail: string }[];
    const pi = checks.find((check) => check.check === "pi");
    expect(pi?.status).toBe("ok");
    expect(pi?.detail).toContain(join(piDir, "node_modules/@mariozechner/pi-coding-agent/dist/cli.js"));
  });

  test("oqto serve from the install answers /api/health and serves the UI", async () => {
    const added = await runProcess(
      [
        installed,
        "user",
        "add",
        admin.username,
        "--admin",
        "--password-stdin",
        "--config",
        configFile,
        "--data-dir",
        dataDir,
      ],
      { env, stdin: `${admin.password}\n` },
    );
    expect(added.code).toBe(0);
    const output: string[] = [];
    const started = await spawnServe(
      [installed, "serve", "--config", configFile, "--data-dir", dataDir],
      env,
      output,
    );
    serve = started.serve;
    const base = `http://127.0.0.1:${started.port}`;
    const health = (await (await fetch(`${base}/api/health`)).json()) as {
      status: string;
      multi_user: boolean;
    };
    expect(health).toMatchObject({ status: "ok", multi_user: false });
    const page = await fetch(`${base}/`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<script");
    const login = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(admin),
    });
    expect(login.status).toBe(200);
    serve.kill("SIGTERM");
    await serve.exited;
    serve = undefined;
  }, 40_000);

  test("a second run is a no-op upgrade that keeps the binary, pi, config and data", async () => {
    const binaryBefore = statSync(installed);
    const piBefore = statSync(piDir);
    const configBefore = readFileSync(configFile, "utf8");
    const result = await runInstaller(root, installArgs);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("is already this build");
    expect(result.stdout).toContain(`keeping ${configFile}`);
    expect(result.stdout).toContain("keeping pi");
    expect(result.stdout).not.toContain("creating the Linux user");
    expect(statSync(installed).ino).toBe(binaryBefore.ino);
    expect(statSync(piDir).ino).toBe(piBefore.ino);
    expect(readFileSync(configFile, "utf8")).toBe(configBefore);
    expect(await users()).toContain(admin.username);
  }, 30_000);

  test("--uninstall removes the binary and pi, and keeps data and config", async () => {
    const result = await runInstaller(root, ["--uninstall", "--prefix", prefix]);
    expect(result.code).toBe(0);
    expect(existsSync(installed)).toBe(false);
    expect(existsSync(join(prefix, "lib/oqto"))).toBe(false);
    expect(existsSync(configFile)).toBe(true);
    expect(existsSync(join(dataDir, "oqto.db"))).toBe(true);
    expect(userExists(runAs)).toBe(true);
    expect(result.stdout).toContain("--purge");
  });

  test("--uninstall --purge removes data, config and the user the installer made", async () => {
    // Without --prefix: the manifest kept beside the config says where the install was.
    const result = await runInstaller(root, ["--uninstall", "--purge"]);
    expect(result.code).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(configFile)).toBe(false);
    expect(existsSync(manifest)).toBe(false);
    expect(userExists(runAs)).toBe(false);
    expect(existsSync(`/home/${runAs}`)).toBe(false);
    // Uninstalling what is gone is not an error.
    const again = await runInstaller(root, ["--uninstall", "--prefix", prefix]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("nothing of Oqto's is installed");
  });
});
