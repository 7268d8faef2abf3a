/**
 * Real bubblewrap runs as a real unprivileged Linux user, under every built-in profile: each probe
 * is something an injected agent would try, and the expectations are docs/SECURITY.md's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { buildSandboxedCommand } from "../../src/runner/sandbox/argv-builder.ts";
import { prepareSandboxDirs } from "../../src/runner/sandbox/prepare.ts";
import { resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";
import type { BuiltinProfileName } from "../../src/runner/sandbox/profile-schema.ts";
import { runProcess } from "../helpers/run-process.ts";
import { buildHome, chownTree, createTestUser, type HomeFixture, put, type TestUser } from "./helpers.ts";

const PROBE = `
r() { if "$@" >/dev/null 2>&1; then echo ok; else echo denied; fi; }
# ok, or the error text the attempt got (what follows the last ': ' of the message).
w() { if err=$("$@" 2>&1 >/dev/null); then echo ok; else echo "\${err##*: }"; fi; }
echo "uid=$(id -u)"
echo "ssh_entries=$(ls -A ~/.ssh 2>/dev/null | wc -l)"
echo "ssh_key=$(r cat ~/.ssh/id_rsa)"
echo "aws=$(r cat ~/.aws/credentials)"
echo "pi_login=$(r cat ~/.pi/agent/auth.json)"
echo "config_other=$(r cat ~/.config/other/token)"
echo "systemctl_read=$(r cat /usr/bin/systemctl)"
echo "systemctl_run=$(r /usr/bin/systemctl --version)"
echo "system_file=$(w cat "$SYSTEM_FILE")"
echo "oqto_meta_write=$(w sh -c 'echo x > .oqto/workspace.json')"
echo "ws_write=$(w touch ws-probe)"
echo "home_write=$(w touch ~/home-probe)"
echo "bashrc_append=$(w sh -c 'echo evil >> ~/.bashrc')"
echo "profile_remove=$(w rm ~/.profile)"
echo "autostart=$(w mkdir -p ~/.config/autostart)"
echo "cache_write=$(w touch ~/.cache/probe)"
echo "tmp_write=$(w touch /tmp/$TMP_PROBE)"
echo "etc_write=$(w touch /etc/probe)"
echo "workspace_root=$(ls -A ~/oqto | tr '\\n' ' ')"
echo "sibling=$(w ls ~/oqto/bare)"
echo "host_pid_visible=$(r test -e /proc/$HOST_PID)"
echo "pid1=$(tr '\\0' '\\n' < /proc/1/cmdline | head -1)"
echo "few_pids=$([ "$(ls /proc | grep -c '^[0-9]*$')" -lt 8 ] && echo yes || echo no)"
echo "nnp=$(grep '^NoNewPrivs' /proc/self/status | cut -f2)"
echo "capeff=$(grep '^CapEff' /proc/self/status | cut -f2)"
echo "nested_userns=$(r unshare -U true)"
echo "tcp_host_loopback=$(r bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT')"
`;

const EROFS = "Read-only file system";
const ENOENT = "No such file or directory";

/** What every profile shares; the rows below override where profiles differ. */
const COMMON: Record<string, string> = {
  ssh_entries: "0",
  ssh_key: "denied",
  aws: "denied",
  pi_login: "denied",
  config_other: "ok",
  systemctl_read: "denied",
  systemctl_run: "denied",
  system_file: ENOENT,
  oqto_meta_write: EROFS,
  ws_write: "ok",
  home_write: EROFS,
  bashrc_append: EROFS,
  profile_remove: EROFS,
  autostart: EROFS,
  cache_write: "ok",
  tmp_write: "ok",
  etc_write: EROFS,
  workspace_root: "proj ",
  sibling: ENOENT,
  host_pid_visible: "denied",
  pid1: "/usr/bin/bwrap",
  few_pids: "yes",
  nnp: "1",
  capeff: "0000000000000000",
  nested_userns: "denied",
  tcp_host_loopback: "ok",
};

const EXPECTED: Record<BuiltinProfileName, Record<string, string>> = {
  minimal: { ...COMMON, nested_userns: "ok" },
  development: COMMON,
  strict: {
    ...COMMON,
    config_other: "denied",
    // ~/.config is a private tmpfs under strict: the directory is made there, never on the host.
    autostart: "ok",
    cache_write: ENOENT,
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

interface SandboxCase {
  workspace?: (fx: HomeFixture) => string;
  cwd?: (fx: HomeFixture) => string;
}

/** A fresh fixture home for `profile`, given to the test user, and the sandboxed argv for `script`. */
function sandboxFor(profileName: BuiltinProfileName, script: string, options: SandboxCase = {}) {
  if (!user) throw new Error("no test user");
  rmSync(user.home, { recursive: true, force: true });
  const fx = buildHome(user.home, profileName);
  put(join(fx.bareWorkspace, "secret.txt"), "SIBLING\n");
  const workspace = options.workspace ? options.workspace(fx) : fx.workspace;
  const cwd = options.cwd ? options.cwd(fx) : workspace;
  mkdirSync(cwd, { recursive: true });
  // Resolved while the system file is still the runner's (root's): the user gets the rest.
  const profile = resolveEffectiveProfile({ systemFile: fx.systemFile, home: fx.home, multiUser: false });
  prepareSandboxDirs({ profile, home: fx.home, workspace });
  chownTree(fx.home, user);
  const argv = buildSandboxedCommand({
    profile,
    home: fx.home,
    workspace,
    cwd,
    workspaceRoot: fx.workspaceRoot,
    hiddenPaths: [fx.dataDir],
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
        SYSTEM_FILE: fx.systemFile,
      });
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const { uid, ...probes } = parseReport(stdout);
      expect(uid).toBe(String(user?.uid));
      expect(probes).toEqual(EXPECTED[name]);

      // What the sandbox allowed landed on the host; what it denied did not.
      expect(statSync(join(fx.workspace, "ws-probe")).uid).toBe(user?.uid ?? -1);
      expect(existsSync(join(fx.home, "home-probe"))).toBe(false);
      expect(readFileSync(join(fx.home, ".bashrc"), "utf8")).toBe("# bashrc\n");
      expect(existsSync(join(fx.home, ".profile"))).toBe(true);
      expect(existsSync(join(fx.home, ".config", "autostart"))).toBe(false);
      expect(existsSync(join(fx.home, ".cache", "probe"))).toBe(EXPECTED[name].cache_write === "ok");
      expect(existsSync(join("/tmp", tmpProbe))).toBe(false);
      expect(readFileSync(join(fx.workspace, ".oqto", "workspace.json"), "utf8")).toBe("{}\n");
      expect(readFileSync(join(fx.bareWorkspace, "secret.txt"), "utf8")).toBe("SIBLING\n");
      expect(hostConnections - before).toBe(EXPECTED[name].tcp_host_loopback === "ok" ? 1 : 0);
    });
  }

  test("the command starts in its cwd, a folder inside the workspace, and writes there", async () => {
    const { fx, argv } = sandboxFor("development", "pwd; echo made > here.txt", {
      cwd: (f) => join(f.workspace, "src", "deep"),
    });
    const { stdout, stderr, code } = await runAsUser(argv);
    expect([stderr, code]).toEqual(["", 0]);
    expect(stdout).toBe(`${join(fx.workspace, "src", "deep")}\n`);
    expect(readFileSync(join(fx.workspace, "src", "deep", "here.txt"), "utf8")).toBe("made\n");
  });

  test("another workspace cannot be reached, not even by its full path", async () => {
    const { fx, argv } = sandboxFor(
      "minimal",
      'cat "$SIBLING/secret.txt"; echo "cat=$?"; rm -rf "$SIBLING" 2>/dev/null; mkdir "$SIBLING" 2>/dev/null; ls -A ~/oqto',
    );
    const { stdout, code } = await runAsUser(argv, { SIBLING: join(root, "home", "oqto", "bare") });
    expect(code).toBe(0);
    // What it made went to the root's private tmpfs; the host's sibling is untouched.
    expect(stdout).toBe("cat=1\nbare\nproj\n");
    expect(readFileSync(join(fx.bareWorkspace, "secret.txt"), "utf8")).toBe("SIBLING\n");
  });

  test("strict: outside addresses are unreachable", async () => {
    const { argv } = sandboxFor("strict", "exec 3<>/dev/tcp/192.0.2.1/80");
    const { stderr, code } = await runAsUser(argv);
    expect(code).not.toBe(0);
    expect(stderr).toContain("Network is unreachable");
  });

  test("a workspace without .oqto gets a tmpfs there: writes do not reach the host", async () => {
    const { fx, argv } = sandboxFor(
      "development",
      "echo 'written' > .oqto/workspace.json && cat .oqto/workspace.json",
      { workspace: (f) => f.bareWorkspace },
    );
    const { stdout, code } = await runAsUser(argv);
    expect(code).toBe(0);
    expect(stdout).toBe("written\n");
    expect(existsSync(join(fx.bareWorkspace, ".oqto", "workspace.json"))).toBe(false);
  });

  test("strict: pi's runtime (bun) runs a script in the workspace", async () => {
    const { argv } = sandboxFor("strict", "bun -e 'console.log(process.cwd(), 6 * 7)'");
    const { stdout, code } = await runAsUser(argv);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`${join(root, "home", "oqto", "proj")} 42`);
  });
});
