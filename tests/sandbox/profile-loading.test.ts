import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { ProtocolError } from "../../src/protocol/common.ts";
import { buildSandboxedCommand } from "../../src/runner/sandbox/argv-builder.ts";
import { builtinProfile, resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";
import { put } from "./helpers.ts";

const root = mkdtempSync("/tmp/sbl-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dir: string;
let home: string;
let workspace: string;
let systemFile: string;
let workspaceFile: string;
let caseNumber = 0;

beforeEach(() => {
  dir = join(root, String(caseNumber++));
  home = join(dir, "home");
  workspace = join(home, "ws");
  systemFile = join(dir, "etc", "sandbox.toml");
  workspaceFile = join(workspace, ".oqto", "sandbox.toml");
  put(join(workspace, "README.md"), "");
});

const resolve = (multiUser = false, insecureNoSandbox = false) =>
  resolveEffectiveProfile({ systemFile, workspacePath: workspace, home, multiUser, insecureNoSandbox });

/** The sandbox_error a resolution throws (fails the test when it does not throw one). */
function loadError(multiUser = false): ProtocolError {
  try {
    resolve(multiUser);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("sandbox_error");
    return error as ProtocolError;
  }
  throw new Error("expected a sandbox_error");
}

describe("built-in profiles (SANDBOX.md §2.1)", () => {
  const h = "/home/u";
  const load = (name: "minimal" | "development" | "strict") => {
    put(systemFile, `profile = "${name}"\n`);
    return resolveEffectiveProfile({ systemFile, workspacePath: workspace, home: h, multiUser: false });
  };
  const credentials = [`${h}/.ssh`, `${h}/.gnupg`, `${h}/.aws`, "/usr/bin/systemctl", "/usr/bin/systemd-run"];
  const piSessions = {
    name: "pi-sessions",
    base_path: `${h}/.pi/agent/sessions`,
    source: "workspace_path",
    access: "rw",
    missing: "ignore",
    target_template: "{base_path}/{value}",
  };

  test("minimal: home rw, credentials hidden, host network and pids", () => {
    const p = load("minimal");
    expect(p.home).toBe("rw");
    expect(p.deny_read).toEqual(credentials);
    expect(p.allow_write).toEqual(["/tmp"]);
    expect(p.deny_write).toEqual([]);
    expect(p.extra_ro_bind).toEqual([]);
    expect([p.isolate_pid, p.isolate_network, p.drop_all_caps]).toEqual([false, false, false]);
    expect([p.disable_userns, p.assert_userns_disabled, p.no_new_privs]).toEqual([false, false, true]);
    expect(p.network.mode).toBe("open");
    expect(p.scoped_paths).toEqual([expect.objectContaining(piSessions)]);
    expect([p.seccomp_mode, p.landlock_mode]).toEqual(["off", "off"]);
  });

  test("development (the default): toolchain dirs writable, pid and userns isolation", () => {
    const p = load("development");
    expect(p.home).toBe("rw");
    expect(p.deny_read).toEqual(credentials);
    expect(p.allow_write).toEqual(
      [".pi", ".cache", ".cargo", ".rustup", ".npm", ".bun", ".local/bin", ".local/share/uv"]
        .map((d) => `${h}/${d}`)
        .concat("/tmp"),
    );
    expect(p.deny_write).toEqual([`${h}/.config/oqto/sandbox.toml`]);
    expect([p.isolate_pid, p.isolate_network, p.drop_all_caps]).toEqual([true, false, false]);
    expect([p.disable_userns, p.assert_userns_disabled, p.no_new_privs]).toEqual([true, false, true]);
    expect(p.network.mode).toBe("open");
    expect(p.scoped_paths).toEqual([expect.objectContaining(piSessions)]);
  });

  test("strict: read-only home, ~/.config hidden but oqto's re-exposed, no network, no caps", () => {
    const p = load("strict");
    expect(p.home).toBe("ro");
    expect(p.deny_read).toEqual([...credentials, `${h}/.config`]);
    // Not ~/.pi: extensions and settings there run in every workspace (see strict.toml).
    expect(p.allow_write).toEqual(["/tmp"]);
    expect(p.extra_ro_bind).toEqual([`${h}/.config/oqto`]);
    expect([p.isolate_pid, p.network.mode, p.drop_all_caps]).toEqual([true, "isolated", true]);
    expect([p.disable_userns, p.assert_userns_disabled, p.no_new_privs]).toEqual([true, true, true]);
    expect(p.scoped_paths).toEqual([expect.objectContaining(piSessions)]);
  });

  test("the default profile is development and the global file names it", () => {
    put(systemFile, "");
    const p = resolve();
    expect(p.global_profile).toBe("development");
    expect(p.isolate_pid).toBe(true);
    expect(builtinProfile("development").disable_userns).toBe(true);
  });

  test("~/ means the TARGET user's home, not the runner's", () => {
    put(systemFile, 'profile = "mine"\n[profiles.mine]\ndeny_read = ["~/.secret", "~"]\n');
    const p = resolve();
    expect(p.deny_read).toEqual([`${home}/.secret`, home]);
    expect(p.deny_read.some((path) => path.startsWith(process.env.HOME ?? "/root"))).toBe(false);
  });
});

describe("global file", () => {
  test("single-user: a missing file is written from the default (0600) and loaded", () => {
    const p = resolve(false);
    expect(p.global_profile).toBe("development");
    expect(readFileSync(systemFile, "utf8")).toContain('profile = "development"');
    expect(statSync(systemFile).mode & 0o777).toBe(0o600);
    expect(p.protected_files).toEqual([systemFile]);
  });

  test("multi-user: a missing file stops agents from starting", () => {
    expect(loadError(true).message).toBe(
      `${systemFile}: file not found; in multi-user mode no agent starts without the global sandbox file`,
    );
  });

  test("multi-user: a file the user could change is refused", () => {
    put(systemFile, 'profile = "strict"\n');
    expect(resolve(true).global_profile).toBe("strict");
    chownSync(systemFile, 65534, 65534);
    expect(loadError(true).message).toBe(
      `${systemFile}: in multi-user mode '${systemFile}' must be owned by root and not group/other-writable`,
    );
    chownSync(systemFile, 0, 0);
    chmodSync(join(dir, "etc"), 0o777);
    expect(loadError(true).message).toContain(`'${join(dir, "etc")}' must be owned by root`);
  });

  test("multi-user: enabled = false needs serve --insecure-no-sandbox", () => {
    put(systemFile, "enabled = false\n");
    expect(loadError(true).message).toBe(
      `${systemFile}: enabled: the sandbox cannot be disabled in multi-user mode (only with serve --insecure-no-sandbox)`,
    );
    expect(resolve(true, true).enabled).toBe(false);
  });

  test("single-user: enabled = false runs the command unwrapped", () => {
    put(systemFile, "enabled = false\n");
    const p = resolve(false);
    expect(p.enabled).toBe(false);
    const argv = buildSandboxedCommand({
      profile: p,
      home,
      workspace,
      command: ["pi", "--mode", "rpc"],
      kind: "agent",
    });
    expect(argv).toEqual(["pi", "--mode", "rpc"]);
  });
});

describe("fail closed: load errors name the file and the key", () => {
  const rows: Array<[string, string, string]> = [
    ["unknown top-level key", "surprise = true\n", "surprise: unknown key"],
    ["unknown profile field", 'profile = "x"\n[profiles.x]\nhmoe = "ro"\n', "profiles.x.hmoe: unknown key"],
    [
      "wrong type",
      'profile = "x"\n[profiles.x]\nisolate_pid = "yes"\n',
      "profiles.x.isolate_pid: Invalid input",
    ],
    [
      "unknown profile",
      'profile = "nope"\n',
      "profile: unknown profile 'nope' (known: minimal, development, strict)",
    ],
    [
      "redefined built-in",
      "[profiles.strict]\nhome = 'rw'\n",
      "profiles.strict: redefines the built-in profile 'strict'",
    ],
    ["bad profile name", '[profiles."a b"]\n', "profiles.a b: profile names are"],
    [
      "relative path",
      "[profiles.x]\ndeny_read = ['.ssh']\n",
      "profiles.x.deny_read[0]: '.ssh': relative paths are not allowed",
    ],
    [
      "'..' escape",
      "[profiles.x]\nallow_write = ['~/../other']\n",
      "profiles.x.allow_write[0]: '~/../other': '..' is not allowed",
    ],
    [
      "another user's home",
      "[profiles.x]\nextra_ro_bind = ['~bob/x']\n",
      "profiles.x.extra_ro_bind[0]: '~bob/x': only '~/'",
    ],
    [
      "no_new_privs = false",
      "[profiles.x]\nno_new_privs = false\n",
      "profiles.x.no_new_privs: must stay true",
    ],
    ["bad home mode", "[profiles.x]\nhome = 'none'\n", "profiles.x.home: Invalid option"],
    [
      "literal scoped path without a literal",
      "[[profiles.x.scoped_paths]]\nname='s'\nbase_path='~/b'\nsource='literal'\naccess='ro'\nmissing='fail'\n",
      "profiles.x.scoped_paths[0].source_literal: required when source = 'literal'",
    ],
    [
      "scoped template outside its base",
      "[[profiles.x.scoped_paths]]\nname='s'\nbase_path='~/b'\nsource='workspace_path'\ntarget_template='/etc/{value}'\naccess='ro'\nmissing='fail'\n",
      "profiles.x.scoped_paths[0].target_template: must start with '{base_path}/'",
    ],
    ["invalid TOML", "profile = \n", "TOML Parse error"],
  ];
  for (const [name, toml, message] of rows) {
    test(`${name} (global file)`, () => {
      put(systemFile, toml);
      expect(loadError().message).toStartWith(`${systemFile}: `);
      expect(loadError().message).toContain(message);
    });
  }

  test("the same rules hold for a workspace file, which is named in the error", () => {
    put(systemFile, 'profile = "development"\n');
    put(workspaceFile, "[profiles.minimal]\n");
    expect(loadError().message).toBe(
      `${workspaceFile}: profiles.minimal: redefines the built-in profile 'minimal'`,
    );
    put(workspaceFile, 'profile = "ghost"\n');
    expect(loadError().message).toStartWith(`${workspaceFile}: profile: unknown profile 'ghost'`);
  });

  test("every problem is reported, with the keys in the error details", () => {
    put(systemFile, "a = 1\n[profiles.x]\nb = 2\n");
    const error = loadError();
    expect(error.message).toBe(`${systemFile}: profiles.x.b: unknown key; a: unknown key`);
    expect(error.details).toEqual({
      file: systemFile,
      issues: [
        { key: "profiles.x.b", why: "unknown key" },
        { key: "a", why: "unknown key" },
      ],
    });
  });
});

describe("fail closed: reserved keys are 'not supported in this version'", () => {
  const rows: Array<[string, string]> = [
    ["seccomp_mode = 'audit'", "profiles.x.seccomp_mode"],
    ["landlock_mode = 'enforce'", "profiles.x.landlock_mode"],
    ["seccomp_bpf_path = '/etc/x.bpf'", "profiles.x.seccomp_bpf_path"],
    ["overlay_enabled = false", "profiles.x.overlay_enabled"],
    ["overlay_root = '/tmp/o'", "profiles.x.overlay_root"],
    ["overlay_paths = []", "profiles.x.overlay_paths"],
    ["network = { mode = 'proxy' }", "profiles.x.network.mode"],
    ["network = { allow_domains = ['a.com'] }", "profiles.x.network.allow_domains"],
    ["network = { proxy_tcp_port = 3128 }", "profiles.x.network.proxy_tcp_port"],
    ["network = { proxy_dns_port = 53 }", "profiles.x.network.proxy_dns_port"],
    ["network = { log_requests = true }", "profiles.x.network.log_requests"],
    ["guard = {}", "profiles.x.guard"],
    ["ssh = {}", "profiles.x.ssh"],
    ["prompts = {}", "profiles.x.prompts"],
  ];
  for (const [line, key] of rows) {
    test(line, () => {
      put(systemFile, `[profiles.x]\n${line}\n`);
      const message = loadError().message;
      expect(message).toContain(`${key}: `);
      expect(message).toContain("not supported in this version");
    });
  }

  test("the defaults of the reserved modes load", () => {
    put(
      systemFile,
      "profile = 'x'\n[profiles.x]\nseccomp_mode = 'off'\nlandlock_mode = 'off'\nnetwork = { mode = 'open' }\n",
    );
    expect(resolve().seccomp_mode).toBe("off");
  });
});

describe("workspace file: may only tighten (SANDBOX.md §3)", () => {
  /** A global custom profile with every kind of grant and every hardening flag on. */
  const TIGHT_GLOBAL = `profile = "tight"
[profiles.tight]
home = "ro"
deny_read = ["~/.ssh"]
allow_write = ["~/.pi", "/tmp"]
extra_ro_bind = ["~/.config/oqto"]
extra_rw_bind = ["~/shared"]
isolate_pid = true
isolate_network = true
drop_all_caps = true
disable_userns = true
assert_userns_disabled = true
network = { mode = "isolated" }
`;

  test("no workspace file: the global active profile", () => {
    put(systemFile, TIGHT_GLOBAL);
    const p = resolve();
    expect(p.workspace_profile).toBeNull();
    expect(p.allow_write).toEqual([`${home}/.pi`, "/tmp"]);
  });

  test("a workspace selecting a looser built-in gets the global one", () => {
    put(systemFile, 'profile = "development"\n');
    const global = resolve();
    put(workspaceFile, 'profile = "minimal"\n');
    const p = resolve();
    expect(p.workspace_profile).toBe("minimal");
    const { workspace_profile: _a, protected_files: _b, allow_write, ...effective } = p;
    const { workspace_profile: _c, protected_files: _d, allow_write: _e, ...expected } = global;
    expect(effective).toEqual(expected);
    // The intersection keeps only minimal's /tmp; with home = "rw" the dropped home-relative
    // entries were already writable through the home bind, so the sandbox is development's.
    expect(allow_write).toEqual(["/tmp"]);
    expect(global.home).toBe("rw");
    expect(p.protected_files).toEqual([systemFile, workspaceFile]);
  });

  test("a workspace selecting strict under development runs strict", () => {
    put(systemFile, 'profile = "development"\n');
    put(workspaceFile, 'profile = "strict"\n');
    const p = resolve();
    expect([p.home, p.network.mode, p.drop_all_caps, p.assert_userns_disabled]).toEqual([
      "ro",
      "isolated",
      true,
      true,
    ]);
    expect(p.deny_read).toContain(`${home}/.config`);
    expect(p.allow_write).toEqual(["/tmp"]);
    // Intersection: development grants no extra binds, so strict's re-exposure of ~/.config/oqto is dropped.
    expect(p.extra_ro_bind).toEqual([]);
  });

  test("a workspace may select a profile the global file defines", () => {
    put(systemFile, `${TIGHT_GLOBAL}[profiles.open_dev]\nhome = "rw"\n`);
    put(workspaceFile, 'profile = "open_dev"\n');
    const p = resolve();
    expect(p.home).toBe("ro");
    expect(p.global_profile).toBe("tight");
    expect(p.workspace_profile).toBe("open_dev");
  });

  test("global definitions win on name clashes", () => {
    put(systemFile, `${TIGHT_GLOBAL}[profiles.shared]\nisolate_pid = true\nallow_write = ["~/.pi"]\n`);
    // Written explicitly this would be a loosening, but the global 'shared' is the one in force.
    put(workspaceFile, 'profile = "shared"\n[profiles.shared]\nhome = "rw"\nallow_write = ["~/.cargo"]\n');
    const p = resolve();
    expect(p.home).toBe("ro");
    expect(p.allow_write).toEqual([`${home}/.pi`]);
  });

  test("a workspace-defined profile tightens: unions and intersections", () => {
    put(systemFile, TIGHT_GLOBAL);
    put(
      workspaceFile,
      'profile = "mine"\n[profiles.mine]\ndeny_read = ["~/notes"]\ndeny_write = ["~/ws/keep"]\nallow_write = ["/tmp"]\n',
    );
    const p = resolve();
    expect(p.deny_read).toEqual([`${home}/.ssh`, `${home}/notes`]);
    expect(p.deny_write).toEqual([`${home}/ws/keep`]);
    expect(p.allow_write).toEqual(["/tmp"]);
    // Fields the workspace left out take the profile defaults, which can only drop access here.
    expect(p.extra_rw_bind).toEqual([]);
    expect(p.isolate_network).toBe(true);
  });

  const loosenings: Array<[string, string, string]> = [
    ["home", 'home = "rw"', "profiles.mine.home: 'rw' is looser than the global 'ro'"],
    [
      "allow_write",
      'allow_write = ["~/.pi", "~/.cargo"]',
      `profiles.mine.allow_write: '${"HOME"}/.cargo' not granted`,
    ],
    ["extra_ro_bind", 'extra_ro_bind = ["/opt"]', "profiles.mine.extra_ro_bind: '/opt' not granted"],
    ["extra_rw_bind", 'extra_rw_bind = ["/srv"]', "profiles.mine.extra_rw_bind: '/srv' not granted"],
    [
      "isolate_pid",
      "isolate_pid = false",
      "profiles.mine.isolate_pid: 'false' is looser than the global 'true'",
    ],
    ["isolate_network", "isolate_network = false", "profiles.mine.isolate_network: 'false' is looser"],
    ["drop_all_caps", "drop_all_caps = false", "profiles.mine.drop_all_caps: 'false' is looser"],
    ["disable_userns", "disable_userns = false", "profiles.mine.disable_userns: 'false' is looser"],
    [
      "assert_userns_disabled",
      "assert_userns_disabled = false",
      "profiles.mine.assert_userns_disabled: 'false'",
    ],
    [
      "network.mode",
      'network = { mode = "open" }',
      "profiles.mine.network.mode: 'open' is looser than the global 'isolated'",
    ],
  ];
  for (const [key, line, message] of loosenings) {
    test(`rejected loosening: ${key}`, () => {
      put(systemFile, TIGHT_GLOBAL);
      put(workspaceFile, `profile = "mine"\n[profiles.mine]\n${line}\n`);
      const error = loadError();
      expect(error.message).toStartWith(`${workspaceFile}: `);
      expect(error.message).toContain(message.replace("HOME", home));
      expect(error.message).toContain("a workspace may only tighten");
    });
  }

  test("rejected loosening: enabled = false", () => {
    put(systemFile, TIGHT_GLOBAL);
    put(workspaceFile, "enabled = false\n");
    expect(loadError().message).toBe(
      `${workspaceFile}: enabled: 'false' is looser than the global 'true' (a workspace may only tighten)`,
    );
  });

  test("a workspace may switch the sandbox on where the global file switched it off", () => {
    put(systemFile, "enabled = false\n");
    put(workspaceFile, "enabled = true\n");
    expect(resolve().enabled).toBe(true);
  });
});
