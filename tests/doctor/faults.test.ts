/** `oqto doctor` run as a real process detects each injected fault and names the fix. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestUser, startStack } from "../helpers/stack.ts";
import { check, doctor, doctorJson, failed, freePort, freshHost, writeConfig } from "./harness.ts";

const root = mkdtempSync("/tmp/oqto-drf-");
chmodSync(root, 0o755);
const user = createTestUser(join(root, "user-home"), "oqtodr");

afterAll(() => {
  user.remove();
  rmSync(root, { recursive: true, force: true });
});

describe("oqto doctor finds the fault and names the fix", () => {
  test("bwrap missing: a PATH without it fails the bwrap check, userns is not checked, exit code 1", async () => {
    // Only what the doctor itself needs from PATH (bun, to run pi); bwrap is left out.
    const bin = join(root, "bin-no-bwrap");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "bun"));
    const host = freshHost(root, { path: bin });
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
    expect(failed(checks)).toEqual(["bwrap"]);
  });

  test("user namespaces switched off (simulated): a max_user_namespaces of 0 fails with the sysctl", async () => {
    const procSys = join(root, "proc-sys-off");
    mkdirSync(join(procSys, "user"), { recursive: true });
    writeFileSync(join(procSys, "user", "max_user_namespaces"), "0\n");
    const host = freshHost(root);
    const { code, checks } = await doctorJson(host, ["--proc-sys", procSys]);
    expect(code).toBe(1);
    expect(check(checks, "userns")).toEqual({
      check: "userns",
      status: "fail",
      detail: `user.max_user_namespaces is 0 (${procSys}/user/max_user_namespaces): no sandbox can create its user namespace`,
      fix: expect.stringContaining("sysctl -w user.max_user_namespaces=15000"),
    });
    expect(failed(checks)).toEqual(["userns"]);
  });

  test("unprivileged user namespaces off (simulated): fails even for root, since agents never run as root", async () => {
    const procSys = join(root, "proc-sys-unpriv");
    mkdirSync(join(procSys, "kernel"), { recursive: true });
    writeFileSync(join(procSys, "kernel", "unprivileged_userns_clone"), "0\n");
    const { checks } = await doctorJson(freshHost(root), ["--proc-sys", procSys]);
    expect(check(checks, "userns")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("kernel.unprivileged_userns_clone is 0"),
      fix: expect.stringContaining("sysctl -w kernel.unprivileged_userns_clone=1"),
    });
  });

  test("user namespaces really unavailable: the doctor inside bwrap --disable-userns fails its trial sandbox", async () => {
    // bwrap --disable-userns caps the namespace nesting, so the trial's own bwrap gets ENOSPC.
    const wrap = ["bwrap", "--dev-bind", "/", "/", "--unshare-user", "--disable-userns", "--"];
    const { code, checks } = await doctorJson(freshHost(root), [], { wrap });
    expect(code).toBe(1);
    expect(check(checks, "userns")).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(
        /^a trial sandbox \(profile "development"\) failed \(exit code 1: bwrap: .*namespace/,
      ),
      fix: expect.stringContaining("allow unprivileged user namespaces"),
    });
    expect(failed(checks)).toEqual(["userns"]);
  });

  test("a bad config key fails naming the key; what depends on the config is not checked", async () => {
    const host = freshHost(root);
    writeConfig(host, "[server]\nprot = 8080\n");
    const { code, stdout } = await doctor(host);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `fail  config        invalid config ${host.configFile}: unknown key 'server.prot'`,
    );
    expect(stdout).toContain(`fix: correct or remove the key named above in ${host.configFile}`);
    const { checks } = await doctorJson(host);
    for (const name of ["pi", "port", "hstry", "eavs", "service-user", "runtime-dir"]) {
      expect(check(checks, name)).toMatchObject({
        status: "warn",
        detail: "not checked: the config did not load",
      });
    }
    expect(failed(checks)).toEqual(["config"]);
  });

  test("an unwritable data dir: mode 0500, checked as the real unprivileged user who owns it", async () => {
    const host = freshHost(root);
    const dataDir = join(root, "data-0500");
    mkdirSync(dataDir, { mode: 0o500 });
    chmodSync(dataDir, 0o500);
    chownSync(dataDir, user.uid, user.gid);
    const { code, checks } = await doctorJson(host, ["--data-dir", dataDir], {
      uid: user.uid,
      gid: user.gid,
    });
    expect(code).toBe(1);
    expect(check(checks, "data-dir")).toEqual({
      check: "data-dir",
      status: "fail",
      detail: `${dataDir} (mode 0500, owner ${user.name}) is not writable by ${user.name}, who runs oqto: serve cannot create its database there`,
      fix: `chmod 700 ${dataDir}`,
    });
    expect(failed(checks)).toEqual(["data-dir"]);
  });

  test("a port in use: a real socket on the configured port is named by its pid; Oqto's own server is ok", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const host = freshHost(root);
      writeConfig(host, `[server]\nport = ${listener.port}\n`);
      const { code, checks } = await doctorJson(host);
      expect(code).toBe(1);
      expect(check(checks, "port")).toEqual({
        check: "port",
        status: "fail",
        detail: expect.stringMatching(
          new RegExp(
            `^127\\.0\\.0\\.1:${listener.port} is in use by pid ${process.pid} \\(\\S*bun.* user root\\), not by Oqto's server$`,
          ),
        ),
        fix: `stop pid ${process.pid} (kill ${process.pid}), or set another port in [server] port of ${host.configFile} (or serve --port)`,
      });
      expect(failed(checks)).toEqual(["port"]);
    } finally {
      listener.stop(true);
    }
    const stack = await startStack();
    try {
      const host = freshHost(root);
      const port = new URL(stack.baseUrl).port;
      writeConfig(host, `[server]\nport = ${port}\n`);
      const { checks } = await doctorJson(host);
      expect(check(checks, "port")).toMatchObject({
        status: "ok",
        detail: expect.stringMatching(
          new RegExp(`^127\\.0\\.0\\.1:${port} is Oqto's server \\(version .+\\), already running$`),
        ),
      });
    } finally {
      await stack.stop();
    }
  }, 30_000);

  test("an external hstry or eavs that does not answer fails with the address", async () => {
    const host = freshHost(root);
    const socket = join(root, "no-hstry.sock");
    const eavsPort = freePort();
    writeConfig(
      host,
      `[server]\nport = ${freePort()}\n[hstry]\nsocket = "${socket}"\n[eavs]\nurl = "http://127.0.0.1:${eavsPort}"\n`,
    );
    const { code, checks } = await doctorJson(host);
    expect(code).toBe(1);
    expect(check(checks, "hstry")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`the external hstry at socket ${socket} does not answer`),
      fix: expect.stringContaining("start that hstry service, or correct [hstry]"),
    });
    expect(check(checks, "eavs")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`eavs at http://127.0.0.1:${eavsPort} does not answer GET /health`),
    });
  });
});
