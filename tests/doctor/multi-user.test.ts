/**
 * `oqto doctor` on a multi-user install laid out in temp dirs as serve --multi-user and install.sh
 * leave it (ARCHITECTURE.md "Multi-user mode"), with real Linux users; then each part broken.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestUser } from "../helpers/stack.ts";
import { check, doctor, doctorJson, failed, freePort, freshHost, type Host } from "./harness.ts";

const root = mkdtempSync("/tmp/oqto-drm-");
chmodSync(root, 0o755);
const service = createTestUser(join(root, "var-lib-oqto"), "oqtodr");
const alice = createTestUser(join(root, "home-alice"), "oqtodr");
const etcDir = join(root, "etc-oqto");
const configFile = join(etcDir, "config.toml");
const dataDir = join(root, "var-lib-oqto");
const runtimeDir = join(root, "run-oqto");
const backupFile = join(dataDir, "last-backup.json");

afterAll(() => {
  service.remove();
  alice.remove();
  rmSync(root, { recursive: true, force: true });
});

function dir(path: string, mode: number, uid: number, gid: number): void {
  mkdirSync(path, { recursive: true });
  chownSync(path, uid, gid);
  chmodSync(path, mode);
}

function writeBackupRecord(at: Date | string): void {
  const record = {
    at: typeof at === "string" ? at : at.toISOString(),
    file: "/var/backups/oqto.tar",
    bytes: 4096,
  };
  writeFileSync(backupFile, JSON.stringify(record));
  chownSync(backupFile, service.uid, service.gid);
}

/** The installed layout, rebuilt before every test so that each breaks one part of a sound system. */
function install(serviceUser = service.name): void {
  rmSync(etcDir, { recursive: true, force: true });
  rmSync(runtimeDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  dir(etcDir, 0o755, 0, 0);
  const config = [
    "[server]",
    "multi_user = true",
    `port = ${freePort()}`,
    "[multi_user]",
    `service_user = "${serviceUser}"`,
    `data_dir = "${dataDir}"`,
    `runtime_dir = "${runtimeDir}"`,
    `home_base = "${root}"`,
  ].join("\n");
  writeFileSync(configFile, `${config}\n`, { mode: 0o644 });
  writeFileSync(join(etcDir, "sandbox.toml"), 'profile = "development"\n', { mode: 0o644 });
  dir(dataDir, 0o700, service.uid, service.gid);
  dir(runtimeDir, 0o755, 0, 0);
  dir(join(runtimeDir, "server"), 0o700, service.uid, service.gid);
  dir(join(runtimeDir, "runners"), 0o711, 0, 0);
  dir(join(runtimeDir, "runners", alice.name), 0o2750, alice.uid, service.gid);
  dir(join(runtimeDir, "helper"), 0o700, 0, 0);
  writeBackupRecord(new Date());
}

/** Root on the installed host: no config of its own, so the doctor reads the installed one. */
function rootShell(): Host {
  return { ...freshHost(root, { config: null }), etcDir };
}

beforeEach(() => install());

describe("oqto doctor (multi-user install)", () => {
  test("a sound install: every check ok, the config found in the etc dir without --config", async () => {
    const { code, stdout } = await doctor(rootShell());
    expect(code).toBe(0);
    expect(stdout).toContain(`ok    config        ${configFile} loaded (multi-user mode)`);
    expect(stdout).toContain(`ok    sandbox-file  ${join(etcDir, "sandbox.toml")}: profile "development"`);
    expect(stdout).toContain(`bare namespaces as ${service.name} too`);
    expect(stdout).toContain(
      `${service.name} (uid ${service.uid}, gid ${service.gid}): the web server runs as this user`,
    );
    expect(stdout).toContain(`${dataDir} (mode 0700, owned by the service user ${service.name})`);
    expect(stdout).toContain(`${runtimeDir}: server/, runners/ and helper/ as documented`);
    expect(stdout).toContain("the last backup, /var/backups/oqto.tar (4096 bytes), was made");
    expect(stdout.trim().split("\n").at(-1)).toBe("19 ok, 0 warning(s), 0 failed");
  });

  test("wrong modes on the runtime dir: each wrong entry fails with its chown/chmod", async () => {
    chmodSync(join(runtimeDir, "server"), 0o755);
    chownSync(join(runtimeDir, "runners", alice.name), alice.uid, 0);
    const { code, checks } = await doctorJson(rootShell());
    expect(code).toBe(1);
    expect(failed(checks)).toEqual(["runtime-dir"]);
    const server = join(runtimeDir, "server");
    const aliceDir = join(runtimeDir, "runners", alice.name);
    const runtime = check(checks, "runtime-dir");
    expect(runtime.detail).toBe(
      `${server} is ${service.uid}:${service.gid} (${service.name}) mode 0755, expected ${service.uid}:${service.gid} mode 0700 (the web server only: the helper's socket); ` +
        `${aliceDir} is ${alice.uid}:0 (${alice.name}) mode 2750, expected ${alice.uid}:${service.gid} mode 2750 (${alice.name} and the web server only)`,
    );
    expect(runtime.fix).toBe(
      `chown ${service.uid}:${service.gid} ${server} && chmod 0700 ${server} && ` +
        `chown ${alice.uid}:${service.gid} ${aliceDir} && chmod 2750 ${aliceDir} ` +
        "(serve --multi-user also resets server/, runners/ and helper/ at start)",
    );
  });

  test("a runtime dir the service user owns fails: it could replace the helper's directory", async () => {
    chownSync(runtimeDir, service.uid, service.gid);
    const { checks } = await doctorJson(rootShell());
    expect(check(checks, "runtime-dir")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(
        `${runtimeDir} is ${service.uid}:${service.gid} (${service.name}) mode 0755, expected 0:0 mode 0755`,
      ),
      fix: expect.stringContaining(`chown 0:0 ${runtimeDir} && chmod 0755 ${runtimeDir}`),
    });
  });

  test("a group-writable sandbox file in the etc dir fails there and in the sandbox-file check", async () => {
    const file = join(etcDir, "sandbox.toml");
    chmodSync(file, 0o664);
    const { code, checks } = await doctorJson(rootShell());
    expect(code).toBe(1);
    expect(check(checks, "etc-dir")).toEqual({
      check: "etc-dir",
      status: "fail",
      detail: `${file} has mode 0664: group/other may change the policy every sandbox obeys`,
      fix: `chmod go-w ${file}`,
    });
    expect(check(checks, "sandbox-file").detail).toContain(
      "must be owned by root and not group/other-writable",
    );
  });

  test("a data dir the service user does not own fails with the chown", async () => {
    chownSync(dataDir, 0, 0);
    const { checks } = await doctorJson(rootShell());
    expect(check(checks, "data-dir")).toEqual({
      check: "data-dir",
      status: "fail",
      detail: `${dataDir} is owned by root with mode 0700: the web server, running as ${service.name}, cannot write its database there`,
      fix: `chown -R ${service.name}:${service.name} ${dataDir} && chmod 700 ${dataDir} (serve --multi-user also does this at start)`,
    });
  });

  test("a missing service user is a warning with the useradd; its dirs are then not judged", async () => {
    install("oqtodr_absent");
    const { checks } = await doctorJson(rootShell());
    expect(check(checks, "service-user")).toMatchObject({
      status: "warn",
      detail:
        "the service user oqtodr_absent does not exist yet; serve --multi-user makes it at its first start",
      fix: expect.stringContaining("useradd --system --user-group"),
    });
    expect(check(checks, "runtime-dir")).toMatchObject({
      status: "warn",
      detail: "not checked: the service user does not exist",
    });
  });

  test("backups: absent, older than 7 days and malformed are warnings naming the file", async () => {
    rmSync(backupFile);
    const absent = await doctorJson(rootShell());
    expect(absent.code).toBe(0);
    expect(check(absent.checks, "backup")).toMatchObject({
      status: "warn",
      detail: `no backup recorded: ${backupFile} is absent`,
      fix: expect.stringContaining("oqto backup --out FILE"),
    });
    writeBackupRecord(new Date(Date.now() - 10 * 86_400_000));
    const stale = await doctorJson(rootShell());
    expect(check(stale.checks, "backup")).toMatchObject({
      status: "warn",
      detail: expect.stringContaining(": 10 days ago, more than 7"),
    });
    writeBackupRecord("yesterday");
    const malformed = await doctorJson(rootShell());
    expect(check(malformed.checks, "backup")).toMatchObject({
      status: "warn",
      detail: expect.stringMatching(
        new RegExp(`^${backupFile} is malformed \\(at: .+\\), so the last backup is unknown$`),
      ),
    });
  });
});
