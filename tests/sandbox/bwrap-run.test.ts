/**
 * Real bubblewrap runs as a real unprivileged Linux user, one per built-in profile: each probe
 * is something an injected agent would try, and the expectations are SANDBOX.md §2.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { buildSandboxedCommand } from "../../src/runner/sandbox/argv-builder.ts";
import { prepareSandboxDirs } from "../../src/runner/sandbox/prepare.ts";
import { resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";
import { runProcess } from "../helpers/run-process.ts";
import { buildHome, chownTree, createTestUser, type HomeFixture, type TestUser } from "./helpers.ts";

type ProfileName = "minimal" | "development" | "strict";

const PROBE = `
r() { if "$@" >/dev/null 2>&1; then echo ok; else echo denied; fi; }
echo "uid=$(id -u)"
echo "ssh_entries=$(ls -A ~/.ssh 2>/dev/null | wc -l)"
echo "ssh_key=$(r cat ~/.ssh/id_rsa)"
echo "aws=$(r cat ~/.aws/credentials)"
echo "config_other=$(r cat ~/.config/other/token)"
echo "systemctl_read=$(r cat /usr/bin/systemctl)"
echo "systemctl_run=$(r /usr/bin/systemctl --version)"
echo "sandbox_file_read=$(r cat ~/.config/oqto/sandbox.toml)"
echo "sandbox_file_write=$(r sh -c 'echo "enabled = false" >> ~/.config/oqto/sandbox.toml')"
echo "ws_file_write=$(r sh -c 'echo "profile = \\"minimal\\"" > .oqto/sandbox.toml')"
echo "oqto_create=$(r touch .oqto/new)"
echo "ws_write=$(r touch ws-probe)"
echo "home_write=$(r touch ~/home-probe)"
echo "pi_write=$(r touch ~/.pi/pi-probe)"
echo "tmp_write=$(r touch /tmp/$TMP_PROBE)"
echo "etc_write=$(r touch /etc/probe)"
echo "host_pid_visible=$(r test -e /proc/$HOST_PID)"
echo "nnp=$(grep '^NoNewPrivs' /proc/self/status | cut -f2)"
echo "capeff=$(grep '^CapEff' /proc/self/status | cut -f2)"
echo "nested_userns=$(r unshare -U true)"
echo "tcp_host_loopback=$(r bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT')"
`;

/** What each profile must allow or deny (SANDBOX.md §2.1); every row is probed for real. */
const EXPECTED: Record<ProfileName, Record<string, string>> = {
  minimal: {
    ssh_entries: "0",
    ssh_key: "denied",
    aws: "denied",
    config_other: "ok",
    systemctl_read: "denied",
    systemctl_run: "denied",
    sandbox_file_read: "ok",
    sandbox_file_write: "denied",
    ws_file_write: "denied",
    oqto_create: "denied",
    ws_write: "ok",
    home_write: "ok",
    pi_write: "ok",
    tmp_write: "ok",
    etc_write: "denied",
    host_pid_visible: "ok",
    nnp: "1",
    capeff: "0000000000000000",
    nested_userns: "ok",
    tcp_host_loopback: "ok",
  },
  development: {
    ssh_entries: "0",
    ssh_key: "denied",
    aws: "denied",
    config_other: "ok",
    systemctl_read: "denied",
    systemctl_run: "denied",
    sandbox_file_read: "ok",
    sandbox_file_write: "denied",
    ws_file_write: "denied",
    oqto_create: "denied",
    ws_write: "ok",
    home_write: "ok",
    pi_write: "ok",
    tmp_write: "ok",
    etc_write: "denied",
    host_pid_visible: "denied",
    nnp: "1",
    capeff: "0000000000000000",
    nested_userns: "denied",
    tcp_host_loopback: "ok",
  },
  strict: {
    ssh_entries: "0",
    ssh_key: "denied",
    aws: "denied",
    config_other: "denied",
    systemctl_read: "denied",
    systemctl_run: "denied",
    sandbox_file_read: "ok",
    sandbox_file_write: "denied",
    ws_file_write: "denied",
    oqto_create: "denied",
    ws_write: "ok",
    home_write: "denied",
    pi_write: "denied",
    tmp_write: "ok",
    etc_write: "denied",
    host_pid_visible: "denied",
    nnp: "1",
    capeff: "0000000000000000",
    nested_userns: "denied",
    tcp_host_loopback: "denied",
  },
};

let root: string;
let user: TestUser | undefined;
let listener: TCPSocketListener | undefined;
let hostConnections = 0;

beforeAll(() => {
  root = mkdtempSync("/tmp/sbr-");
  chmodSync(root, 0o755);
  user = createTestUser(join(root, "home"));
  listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: () => {
        hostConnections++;
      },
      data: () => {},
    },
  });
});

afterAll(() => {
  listener?.stop(true);
  user?.remove();
  rmSync(root, { recursive: true, force: true });
});

/** Fresh fixture for `profile`, owned by the test user, and the sandboxed argv for `script`. */
function sandboxFor(profileName: ProfileName, script: string, workspace?: (fx: HomeFixture) => string) {
  if (!user) throw new Error("no test user");
  rmSync(user.home, { recursive: true, force: true });
  const fx = buildHome(user.home, profileName);
  const profile = resolveEffectiveProfile({
    systemFile: fx.systemFile,
    workspacePath: fx.workspace,
    home: fx.home,
    multiUser: false,
  });
  const ws = workspace ? workspace(fx) : fx.workspace;
  prepareSandboxDirs({ profile, home: fx.home, workspace: ws });
  chownTree(fx.home, user);
  const argv = buildSandboxedCommand({
    profile,
    home: fx.home,
    workspace: ws,
    command: ["/bin/bash", "-c", script],
    kind: "agent",
    inheritedPath: "/usr/bin:/bin",
  });
  return { fx, argv };
}

/** Runs argv as the test user with an explicit env (Bun.spawn keeps the parent's otherwise). */
async function runAsUser(argv: string[], env: Record<string, string> = {}) {
  if (!user) throw new Error("no test user");
  return runProcess(argv, {
    uid: user.uid,
    gid: user.gid,
    env: { HOME: user.home, USER: user.name, PATH: "/usr/bin:/bin", ...env },
  });
}

function parseReport(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("real bwrap runs as an unprivileged user", () => {
  for (const name of ["minimal", "development", "strict"] as const) {
    test(`${name}: every probe is allowed or denied as the profile says`, async () => {
      const { fx, argv } = sandboxFor(name, PROBE);
      const tmpProbe = `oqto-sbx-probe-${process.pid}-${name}`;
      const before = hostConnections;
      const { stdout, stderr, code } = await runAsUser(argv, {
        HOST_PID: String(process.pid),
        PORT: String(listener?.port),
        TMP_PROBE: tmpProbe,
      });
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const report = parseReport(stdout);
      expect(report.uid).toBe(String(user?.uid));
      const { uid: _uid, ...probes } = report;
      expect(probes).toEqual(EXPECTED[name]);

      // What the sandbox allowed landed on the host; what it denied did not.
      expect(statSync(join(fx.workspace, "ws-probe")).uid).toBe(user?.uid ?? -1);
      expect(existsSync(join(fx.home, "home-probe"))).toBe(EXPECTED[name].home_write === "ok");
      expect(existsSync(join(fx.home, ".pi", "pi-probe"))).toBe(EXPECTED[name].pi_write === "ok");
      expect(existsSync(join("/tmp", tmpProbe))).toBe(false);
      expect(readFileSync(fx.systemFile, "utf8")).toBe(`profile = "${name}"\n`);
      expect(readFileSync(join(fx.workspace, ".oqto", "sandbox.toml"), "utf8")).toBe(`profile = "${name}"\n`);
      expect(hostConnections - before).toBe(EXPECTED[name].tcp_host_loopback === "ok" ? 1 : 0);
    });
  }

  test("strict: outside addresses are unreachable", async () => {
    const { argv } = sandboxFor("strict", "exec 3<>/dev/tcp/192.0.2.1/80");
    const { stderr, code } = await runAsUser(argv);
    expect(code).not.toBe(0);
    expect(stderr).toContain("Network is unreachable");
  });

  test("strict: pid isolation shows only the sandbox's own processes", async () => {
    const { argv } = sandboxFor("strict", "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '");
    const { stdout, code } = await runAsUser(argv);
    expect(code).toBe(0);
    const pids = stdout.trim().split(" ").map(Number);
    // bwrap's init (1), bash, ls and the pipeline: a handful of low pids, never the host's.
    expect(pids.length).toBeLessThan(8);
    expect(Math.max(...pids)).toBeLessThan(10);
  });

  test("a workspace without .oqto gets a tmpfs there: writes do not reach the host", async () => {
    const { fx, argv } = sandboxFor(
      "development",
      "echo 'enabled = false' > .oqto/sandbox.toml && cat .oqto/sandbox.toml",
      (f) => f.bareWorkspace,
    );
    const { stdout, code } = await runAsUser(argv);
    expect(code).toBe(0);
    expect(stdout).toBe("enabled = false\n");
    expect(existsSync(join(fx.bareWorkspace, ".oqto", "sandbox.toml"))).toBe(false);
  });

  test("strict: pi's runtime (bun) runs a script in the workspace", async () => {
    const { argv } = sandboxFor("strict", "bun -e 'console.log(process.cwd(), 6 * 7)'");
    const { stdout, code } = await runAsUser(argv);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`${join(root, "home", "oqto", "proj")} 42`);
  });
});
