import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { buildSandboxedCommand } from "../../src/runner/sandbox/argv-builder.ts";
import { builtinProfile, resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";
import type { BuiltinProfileName } from "../../src/runner/sandbox/profile-schema.ts";
import { runProcess } from "../helpers/run-process.ts";
import { put, thrown } from "./helpers.ts";

const root = mkdtempSync("/tmp/sbl-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dir: string;
let home: string;
let workspace: string;
let systemFile: string;
let caseNumber = 0;

beforeEach(() => {
  dir = join(root, String(caseNumber++));
  home = join(dir, "home");
  workspace = join(home, "ws");
  systemFile = join(dir, "etc", "sandbox.toml");
  put(join(workspace, "README.md"), "");
});

const resolve = (
  options: { multiUser?: boolean; insecureNoSandbox?: boolean; workspaceProfile?: string | null } = {},
) =>
  resolveEffectiveProfile({
    systemFile,
    home,
    multiUser: options.multiUser ?? false,
    ...(options.insecureNoSandbox ? { insecureNoSandbox: true } : {}),
    ...(options.workspaceProfile === undefined ? {} : { workspaceProfile: options.workspaceProfile }),
  });

/** The message of the sandbox_error a resolution throws. */
const loadError = (options: Parameters<typeof resolve>[0] = {}) => thrown(() => resolve(options));

describe("built-in profiles (docs/SECURITY.md)", () => {
  const h = "/home/u";
  const load = (name: BuiltinProfileName) => {
    put(systemFile, `profile = "${name}"\n`);
    return resolveEffectiveProfile({ systemFile, home: h, multiUser: false });
  };
  const hidden = [
    `${h}/.ssh`,
    `${h}/.gnupg`,
    `${h}/.aws`,
    `${h}/.pi`,
    "/usr/bin/systemctl",
    "/usr/bin/systemd-run",
  ];
  const toolchain = [".cache", ".cargo", ".rustup", ".npm", ".bun", ".local/bin", ".local/share/uv"]
    .map((d) => `${h}/${d}`)
    .concat("/tmp");

  test("minimal: toolchain dirs writable, credentials hidden, host network, nested userns allowed", () => {
    const p = load("minimal");
    expect(p.deny_read).toEqual(hidden);
    expect(p.allow_write).toEqual(toolchain);
    expect([p.deny_write, p.extra_ro_bind, p.extra_rw_bind, p.scoped_paths]).toEqual([[], [], [], []]);
    expect([p.isolate_network, p.network.mode]).toEqual([false, "open"]);
    expect([p.disable_userns, p.assert_userns_disabled]).toEqual([false, false]);
    expect([p.seccomp_mode, p.landlock_mode]).toEqual(["off", "off"]);
  });

  test("development (the default): minimal without nested user namespaces", () => {
    const p = load("development");
    const { disable_userns, global_profile: _a, system_file: _b, ...rest } = p;
    const {
      disable_userns: minimalUserns,
      global_profile: _c,
      system_file: _d,
      ...minimal
    } = load("minimal");
    expect([disable_userns, minimalUserns]).toEqual([true, false]);
    expect(rest).toEqual(minimal);
  });

  test("strict: nothing in the home writable, ~/.config hidden, no network, userns asserted off", () => {
    const p = load("strict");
    expect(p.deny_read).toEqual([...hidden, `${h}/.config`]);
    expect(p.allow_write).toEqual(["/tmp"]);
    expect(p.network.mode).toBe("isolated");
    expect([p.disable_userns, p.assert_userns_disabled]).toEqual([true, true]);
  });

  test("the default profile is development, and no built-in carries the always-on switches as fields", () => {
    put(systemFile, "");
    const p = resolve();
    expect(p.global_profile).toBe("development");
    expect(p.workspace_profile).toBeNull();
    expect(p.system_file).toBe(systemFile);
    expect(builtinProfile("development").disable_userns).toBe(true);
    for (const key of ["home", "isolate_pid", "drop_all_caps", "no_new_privs"])
      expect(p).not.toHaveProperty(key);
  });

  test("~/ means the TARGET user's home, not the runner's", () => {
    put(systemFile, 'profile = "mine"\n[profiles.mine]\ndeny_read = ["~/.secret", "~"]\n');
    const p = resolve();
    expect(p.deny_read).toEqual([`${home}/.secret`, home]);
    expect(p.deny_read.some((path) => path.startsWith(process.env.HOME ?? "/root"))).toBe(false);
  });
});

describe("what no profile can change", () => {
  const rows: Array<[string, string]> = [
    ['home = "rw"', "profiles.x.home: must be 'ro': the home is always read-only"],
    [
      "isolate_pid = false",
      "profiles.x.isolate_pid: must stay true: every sandbox has its own pid namespace",
    ],
    [
      "drop_all_caps = false",
      "profiles.x.drop_all_caps: must stay true: every sandbox runs with --cap-drop ALL",
    ],
    ["no_new_privs = false", "profiles.x.no_new_privs: must stay true: bubblewrap always sets no_new_privs"],
  ];
  for (const [line, message] of rows) {
    test(`${line} is a load error naming the key`, () => {
      put(systemFile, `profile = "x"\n[profiles.x]\n${line}\n`);
      expect(loadError().message).toStartWith(`${systemFile}: ${message}`);
    });
  }

  test("saying what is always so loads", () => {
    put(
      systemFile,
      'profile = "x"\n[profiles.x]\nhome = "ro"\nisolate_pid = true\ndrop_all_caps = true\nno_new_privs = true\n',
    );
    expect(resolve().global_profile).toBe("x");
  });
});

describe("system file", () => {
  test("single-user: a missing file is written from the default (0600 in a 0700 dir) and loaded", () => {
    const p = resolve();
    expect(p.global_profile).toBe("development");
    expect(readFileSync(systemFile, "utf8")).toContain('profile = "development"');
    expect(statSync(systemFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(systemFile)).mode & 0o777).toBe(0o700);
  });

  test("multi-user: a missing file stops agents from starting", () => {
    expect(loadError({ multiUser: true }).message).toBe(
      `${systemFile}: file not found; in multi-user mode no agent starts without the global sandbox file`,
    );
  });

  test("root-owned 0644 in a 0755 dir is trusted in both modes", () => {
    put(systemFile, 'profile = "strict"\n');
    chmodSync(systemFile, 0o644);
    chmodSync(dirname(systemFile), 0o755);
    expect(resolve().global_profile).toBe("strict");
    expect(resolve({ multiUser: true }).global_profile).toBe("strict");
  });

  const untrusted = (path: string) =>
    `${systemFile}: '${path}' must be owned by root or the runner's user and not group/other-writable`;

  for (const [what, mode] of [
    ["group-writable", 0o664],
    ["other-writable", 0o646],
  ] as const) {
    test(`a ${what} file or directory is refused`, () => {
      put(systemFile, 'profile = "minimal"\n');
      chmodSync(systemFile, mode);
      expect(loadError().message).toBe(untrusted(systemFile));
      expect(loadError({ multiUser: true }).message).toBe(
        `${systemFile}: '${systemFile}' must be owned by root and not group/other-writable`,
      );
      chmodSync(systemFile, 0o644);
      chmodSync(dirname(systemFile), mode | 0o111);
      expect(loadError().message).toBe(untrusted(dirname(systemFile)));
    });
  }

  test("a file or directory owned by a foreign uid is refused", () => {
    put(systemFile, 'profile = "minimal"\n');
    chownSync(systemFile, 65534, 65534);
    expect(loadError().message).toBe(untrusted(systemFile));
    expect(loadError({ multiUser: true }).message).toContain("must be owned by root and");
    chownSync(systemFile, 0, 0);
    chownSync(dirname(systemFile), 65534, 65534);
    expect(loadError().message).toBe(untrusted(dirname(systemFile)));
  });

  test("the runner's own user is trusted in single-user mode only", async () => {
    // The loader runs as uid 65534, which owns the file: only multi-user mode insists on root.
    put(systemFile, 'profile = "strict"\n');
    chownSync(systemFile, 65534, 65534);
    chownSync(dirname(systemFile), 65534, 65534);
    for (const path of [root, dir]) chmodSync(path, 0o755);
    const loader = resolvePath(import.meta.dir, "../../src/runner/sandbox/profile-loader.ts");
    const script = put(
      join(dir, "load.ts"),
      `import { resolveEffectiveProfile } from ${JSON.stringify(loader)};
for (const multiUser of [false, true]) {
  try {
    const p = resolveEffectiveProfile({ systemFile: ${JSON.stringify(systemFile)}, home: "/home/u", multiUser });
    console.log(multiUser, p.global_profile);
  } catch (error) {
    console.log(multiUser, (error as Error).message);
  }
}
`,
    );
    const run = await runProcess(
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, script],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(
      `false strict\ntrue ${systemFile}: '${systemFile}' must be owned by root and not group/other-writable\n`,
    );
  });

  test("multi-user: enabled = false needs serve --insecure-no-sandbox", () => {
    put(systemFile, "enabled = false\n");
    expect(loadError({ multiUser: true }).message).toBe(
      `${systemFile}: enabled: the sandbox cannot be disabled in multi-user mode (only with serve --insecure-no-sandbox)`,
    );
    expect(resolve({ multiUser: true, insecureNoSandbox: true }).enabled).toBe(false);
  });

  test("single-user: enabled = false runs the command unwrapped", () => {
    put(systemFile, "enabled = false\n");
    const p = resolve();
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
      "profiles.x.isolate_pid: Invalid input: expected boolean",
    ],
    [
      "unknown profile",
      'profile = "nope"\n',
      "profile: unknown profile 'nope' (known: minimal, development, strict)",
    ],
    ["redefined built-in", "[profiles.strict]\n", "profiles.strict: redefines the built-in profile 'strict'"],
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
    test(name, () => {
      put(systemFile, toml);
      const error = loadError().message;
      expect(error).toStartWith(`${systemFile}: `);
      expect(error).toContain(message);
    });
  }

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

describe("the workspace's chosen profile, merged with the system one (SANDBOX.md §3)", () => {
  test("no choice: the system profile alone", () => {
    put(systemFile, 'profile = "development"\n');
    expect(resolve({ workspaceProfile: null })).toEqual(resolve());
  });

  test("strict chosen under development runs strict", () => {
    put(systemFile, 'profile = "development"\n');
    const p = resolve({ workspaceProfile: "strict" });
    expect([p.global_profile, p.workspace_profile]).toEqual(["development", "strict"]);
    expect([p.network.mode, p.disable_userns, p.assert_userns_disabled]).toEqual(["isolated", true, true]);
    expect(p.deny_read).toContain(`${home}/.config`);
    expect(p.allow_write).toEqual(["/tmp"]);
  });

  test("a looser choice cannot loosen: minimal under strict keeps strict", () => {
    put(systemFile, 'profile = "strict"\n');
    const { workspace_profile, ...p } = resolve({ workspaceProfile: "minimal" });
    const { workspace_profile: _none, ...strict } = resolve();
    expect(workspace_profile).toBe("minimal");
    expect(p).toEqual(strict);
  });

  test("a profile the system file defines can be chosen; its grants are cut to the system's", () => {
    put(
      systemFile,
      'profile = "base"\n[profiles.base]\nallow_write = ["~/.cache", "/tmp"]\n[profiles.narrow]\nallow_write = ["~/.cache", "~/.cargo"]\ndeny_read = ["~/notes"]\n',
    );
    const p = resolve({ workspaceProfile: "narrow" });
    expect(p.allow_write).toEqual([`${home}/.cache`]);
    expect(p.deny_read).toEqual([`${home}/notes`]);
  });

  test("a choice the system file no longer knows fails closed", () => {
    put(systemFile, 'profile = "strict"\n');
    expect(loadError({ workspaceProfile: "gone" }).message).toBe(
      `${systemFile}: profile: unknown profile 'gone' (known: minimal, development, strict)`,
    );
  });
});
