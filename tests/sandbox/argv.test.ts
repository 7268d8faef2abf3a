import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { buildSandboxedCommand, type SandboxCommandOptions } from "../../src/runner/sandbox/argv-builder.ts";
import { detectBwrap } from "../../src/runner/sandbox/detect.ts";
import type { EffectiveProfile } from "../../src/runner/sandbox/effective-profile.ts";
import { prepareSandboxDirs } from "../../src/runner/sandbox/prepare.ts";
import { resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";
import { BUILTIN_PROFILE_NAMES, type BuiltinProfileName } from "../../src/runner/sandbox/profile-schema.ts";
import { scopedPathTarget } from "../../src/runner/sandbox/scoped-paths.ts";
import { buildHome, customProfileCase, type HomeFixture, put, thrown } from "./helpers.ts";

/**
 * Golden argv per built-in profile (SANDBOX.md §4, steps 1–15) on this test host (Debian 12,
 * merged /usr: /bin, /lib, /lib64 and /sbin are symlinks; /usr/bin/systemctl exists; no
 * /run/systemd/resolve). `@` stands for the fixture's base dir. The fixture has ~/.ssh and
 * ~/.aws but no ~/.gnupg, so that hide is skipped; `@/home/.local/share/oqto` is Oqto's data dir.
 */
const STEP_1 = [
  ["--ro-bind", "/usr", "/usr"],
  ["--symlink", "usr/lib", "/lib"],
  ["--symlink", "usr/lib64", "/lib64"],
  ["--symlink", "usr/bin", "/bin"],
  ["--symlink", "usr/sbin", "/sbin"],
  ["--ro-bind", "/etc", "/etc"],
];
const STEPS_2_4 = [
  ["--proc", "/proc", "--dev", "/dev"],
  ["--tmpfs", "/tmp"],
  ["--ro-bind", "@/home", "@/home"],
];
/** minimal's and development's allow_write below the read-only home, made by prepareSandboxDirs. */
const TOOLCHAIN_RW = [".cache", ".cargo", ".rustup", ".npm", ".bun", ".local/bin", ".local/share/uv"].map(
  (dir) => ["--bind", `@/home/${dir}`, `@/home/${dir}`],
);
/** The workspace root is emptied before the own workspace goes in: no sibling is visible. */
const STEPS_6_7 = [
  ["--tmpfs", "@/home/oqto"],
  ["--bind", "@/home/oqto/proj", "@/home/oqto/proj"],
  ["--chdir", "@/home/oqto/proj"],
  ["--ro-bind", "@/home/oqto/proj/.oqto", "@/home/oqto/proj/.oqto"],
];
const CREDENTIALS_HIDDEN = [
  ["--tmpfs", "@/home/.ssh"],
  ["--tmpfs", "@/home/.aws"],
  ["--tmpfs", "@/home/.pi"],
  ["--ro-bind", "/dev/null", "/usr/bin/systemctl"],
  ["--ro-bind", "/dev/null", "/usr/bin/systemd-run"],
];
const STATE_HIDDEN = ["--tmpfs", "@/home/.local/share/oqto"];
const PI_DIR = "@/home/.local/share/oqto/runner/agents/a-1/pi";
/** The caller's pi install, then the runner's own binds inside the hidden state: rw first, then ro. */
const STEP_11 = [
  ["--ro-bind", "@/pi", "@/pi"],
  ["--bind", PI_DIR, PI_DIR],
  ["--ro-bind", `${PI_DIR}/models.json`, `${PI_DIR}/models.json`],
];
const STEP_12 = [
  [
    "--setenv",
    "PATH",
    "/usr/local/bin:/usr/bin:/bin:@/home/.cargo/bin:@/home/go/bin:@/home/.local/bin:@/home/.bun/bin:@/home/.npm-global/bin",
  ],
  ["--unsetenv", "XDG_RUNTIME_DIR", "--unsetenv", "DBUS_SESSION_BUS_ADDRESS"],
];
/** What no profile can turn off. */
const ALWAYS = ["--unshare-user", "--unshare-pid", "--cap-drop", "ALL"];
const STEPS_14_15 = [
  ["--new-session", "--die-with-parent"],
  ["--", "/usr/bin/bun", "@/pi/cli.js", "--mode", "rpc"],
];

const GOLDEN: Record<BuiltinProfileName, string[][]> = {
  minimal: [
    ...STEP_1,
    ...STEPS_2_4,
    ...TOOLCHAIN_RW,
    ...STEPS_6_7,
    ...CREDENTIALS_HIDDEN,
    STATE_HIDDEN,
    ...STEP_11,
    ...STEP_12,
    ALWAYS,
    ...STEPS_14_15,
  ],
  development: [
    ...STEP_1,
    ...STEPS_2_4,
    ...TOOLCHAIN_RW,
    ...STEPS_6_7,
    ...CREDENTIALS_HIDDEN,
    STATE_HIDDEN,
    ...STEP_11,
    ...STEP_12,
    [...ALWAYS, "--disable-userns"],
    ...STEPS_14_15,
  ],
  strict: [
    ...STEP_1,
    ...STEPS_2_4,
    // Nothing in the home is writable.
    ...STEPS_6_7,
    ...CREDENTIALS_HIDDEN,
    ["--tmpfs", "@/home/.config"],
    STATE_HIDDEN,
    ...STEP_11,
    ...STEP_12,
    [...ALWAYS, "--unshare-net", "--disable-userns", "--assert-userns-disabled"],
    ...STEPS_14_15,
  ],
};

let root: string;
const fixtures = new Map<string, { fx: HomeFixture; profile: EffectiveProfile }>();

/** One fixture home per built-in profile, set up as the runner would before building the argv. */
function fixture(name: BuiltinProfileName) {
  const existing = fixtures.get(name);
  if (existing) return existing;
  const fx = buildHome(join(root, name, "home"), name);
  const profile = resolveEffectiveProfile({ systemFile: fx.systemFile, home: fx.home, multiUser: false });
  prepareSandboxDirs({ profile, home: fx.home, workspace: fx.workspace });
  mkdirSync(join(root, name, "pi"), { recursive: true });
  put(join(fx.dataDir, "runner", "agents", "a-1", "pi", "models.json"), "{}\n");
  fixtures.set(name, { fx, profile });
  return { fx, profile };
}

function build(name: BuiltinProfileName, overrides: Partial<SandboxCommandOptions> = {}) {
  const { fx, profile } = fixture(name);
  const base = join(root, name);
  const piDir = PI_DIR.replace("@", base);
  return buildSandboxedCommand({
    profile,
    home: fx.home,
    workspace: fx.workspace,
    workspaceRoot: fx.workspaceRoot,
    hiddenPaths: [fx.dataDir],
    runnerBinds: { ro: [`${piDir}/models.json`], rw: [piDir] },
    command: ["/usr/bin/bun", `${base}/pi/cli.js`, "--mode", "rpc"],
    kind: "agent",
    inheritedPath: "/usr/local/bin:/usr/bin",
    extraRoBinds: [`${base}/pi`],
    ...overrides,
  });
}

/** Index of the sequence `args` in argv, -1 when absent. */
const at = (argv: string[], ...args: string[]) =>
  argv.findIndex((_, i) => args.every((arg, j) => argv[i + j] === arg));

beforeAll(() => {
  root = mkdtempSync("/tmp/sba-");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("golden argv per built-in profile", () => {
  for (const name of BUILTIN_PROFILE_NAMES) {
    test(name, () => {
      const base = join(root, name);
      const expected = GOLDEN[name].flat().map((arg) => arg.replaceAll("@", base));
      const argv = build(name);
      expect(argv[0]).toBe(detectBwrap().path);
      expect(argv.slice(1)).toEqual(expected);
    });
  }

  test("every profile: own user and pid namespace, all capabilities dropped, the home read-only", () => {
    for (const name of BUILTIN_PROFILE_NAMES) {
      const argv = build(name);
      const { home } = fixture(name).fx;
      expect(at(argv, "--unshare-user", "--unshare-pid", "--cap-drop", "ALL")).toBeGreaterThan(0);
      expect(at(argv, "--ro-bind", home, home)).toBeGreaterThan(0);
      expect(at(argv, "--bind", home, home)).toBe(-1);
      // no_new_privs is bubblewrap's own default: nothing in the argv may ask otherwise.
      expect(argv.some((arg) => /cap-add|privs/.test(arg))).toBe(false);
    }
  });

  test("no argv binds or passes the user's runtime dir (systemd/D-Bus)", () => {
    for (const name of BUILTIN_PROFILE_NAMES) {
      const argv = build(name);
      expect(argv.some((arg) => arg.startsWith("/run/user"))).toBe(false);
      expect(argv.join(" ")).toContain("--unsetenv XDG_RUNTIME_DIR --unsetenv DBUS_SESSION_BUS_ADDRESS");
    }
  });

  test("terminals get the same sandbox without --new-session", () => {
    const agent = build("development");
    const terminal = build("development", { kind: "terminal", command: ["/bin/bash", "-l"] });
    expect(terminal).not.toContain("--new-session");
    expect(terminal.slice(0, terminal.indexOf("--die-with-parent"))).toEqual(
      agent.slice(0, agent.indexOf("--new-session")),
    );
    expect(terminal.slice(terminal.indexOf("--"))).toEqual(["--", "/bin/bash", "-l"]);
  });
});

describe("argv rules", () => {
  /** A custom global profile for this case, resolved for a fresh fixture home. */
  function custom(caseName: string, profileToml: string) {
    return customProfileCase(join(root, caseName, "home"), profileToml);
  }

  test("a workspace without .oqto gets an empty tmpfs there", () => {
    const { fx, argv } = custom("bare", "");
    const built = argv({ workspace: fx.bareWorkspace });
    expect(at(built, "--tmpfs", `${fx.bareWorkspace}/.oqto`)).toBeGreaterThan(at(built, "--chdir"));
  });

  test("the command starts in cwd, which must lie inside the workspace", () => {
    const { fx, argv } = custom("cwd", "");
    const sub = join(fx.workspace, "src", "deep");
    mkdirSync(sub, { recursive: true });
    const built = argv({ cwd: sub });
    expect(at(built, "--chdir", sub)).toBeGreaterThan(at(built, "--bind", fx.workspace, fx.workspace));
    expect(thrown(() => argv({ cwd: fx.bareWorkspace })).message).toBe(
      `cwd '${fx.bareWorkspace}' is not inside workspace '${fx.workspace}'`,
    );
  });

  test("the workspace root is an empty tmpfs laid before the own workspace is bound", () => {
    const { fx, argv } = custom("root", "");
    const built = argv();
    const tmpfs = at(built, "--tmpfs", fx.workspaceRoot);
    expect(tmpfs).toBeGreaterThan(at(built, "--ro-bind", fx.home, fx.home));
    expect(tmpfs).toBeLessThan(at(built, "--bind", fx.workspace, fx.workspace));
    expect(built).not.toContain(fx.bareWorkspace);
    expect(thrown(() => argv({ workspace: fx.workspaceRoot })).message).toBe(
      `workspace '${fx.workspaceRoot}' is not inside the workspace root '${fx.workspaceRoot}'`,
    );
    const outside = join(root, "root", "elsewhere");
    mkdirSync(outside, { recursive: true });
    expect(thrown(() => argv({ workspace: outside })).message).toContain("is not inside the workspace root");
  });

  test("deny_write inside a hidden path is skipped; elsewhere it is bound read-only after the denies", () => {
    const { fx, argv } = custom(
      "denywrite",
      'deny_read = ["~/.config"]\ndeny_write = ["~/.config/other/token", "~/.local/share/oqto/sandbox.toml", "~/oqto/proj/README.md", "~/nonexistent"]',
    );
    const built = argv();
    expect(built).not.toContain(`${fx.home}/.config/other/token`);
    expect(built).not.toContain(fx.systemFile);
    expect(built).not.toContain(`${fx.home}/nonexistent`);
    const readme = `${fx.workspace}/README.md`;
    expect(at(built, "--ro-bind", readme, readme)).toBeGreaterThan(at(built, "--tmpfs", fx.dataDir));
  });

  test("a later bind never re-exposes a deny_read path inside it", () => {
    const { fx, argv } = custom(
      "rehide",
      'deny_read = ["~/.config", "~/.config/other/token"]\nextra_ro_bind = ["~/.config/other"]',
    );
    const built = argv();
    const dir = `${fx.home}/.config/other`;
    const bound = at(built, "--ro-bind", dir, dir);
    expect(bound).toBeGreaterThan(at(built, "--tmpfs", `${fx.home}/.config`));
    expect(at(built.slice(bound), "--ro-bind", "/dev/null", `${dir}/token`)).toBe(3);
  });

  test("the workspace cannot lie inside a hidden path (deny_read or Oqto's state)", () => {
    const { fx, argv } = custom("hiddenws", 'deny_read = ["~/oqto"]');
    expect(thrown(() => argv()).message).toBe(
      `workspace '${fx.workspace}' lies inside hidden path '${fx.home}/oqto'`,
    );
    const open = custom("hiddenws2", "");
    expect(thrown(() => open.argv({ hiddenPaths: [open.fx.workspaceRoot] })).message).toBe(
      `workspace '${open.fx.workspace}' lies inside hidden path '${open.fx.workspaceRoot}'`,
    );
  });

  test("/run/user and XDG_RUNTIME_DIR are never bound, not even read-only or via a parent", () => {
    expect(thrown(() => custom("runuser", 'extra_ro_bind = ["/run/user"]').argv()).message).toBe(
      "refusing to bind '/run/user': it would expose '/run/user'",
    );
    expect(thrown(() => custom("run", 'extra_ro_bind = ["/run"]').argv()).message).toContain(
      "it would expose",
    );
    const runtime = join(root, "xdg-runtime");
    mkdirSync(join(runtime, "oqto"), { recursive: true });
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    try {
      const { argv } = custom("xdg", "");
      expect(thrown(() => argv({ extraRwBinds: [join(runtime, "oqto")] })).message).toBe(
        `refusing to bind '${runtime}/oqto': it would expose '${runtime}'`,
      );
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  test("caller binds must exist and be plain absolute paths; runner binds must lie in the hidden state", () => {
    const { fx, argv } = custom("callerbinds", "");
    expect(thrown(() => argv({ extraRoBinds: ["/no/such/dir"] })).message).toBe(
      "extra read-only bind '/no/such/dir' does not exist",
    );
    expect(thrown(() => argv({ extraRoBinds: ["relative/pi"] })).message).toContain(
      "must be an absolute path",
    );
    expect(thrown(() => argv({ extraRwBinds: ["/usr/../run"] })).message).toContain("without '..'");
    expect(thrown(() => argv({ runnerBinds: { ro: [fx.workspace] } })).message).toBe(
      `runner bind '${fx.workspace}' must be an existing path inside Oqto's hidden state`,
    );
    const missing = join(fx.dataDir, "runner", "gone");
    expect(thrown(() => argv({ runnerBinds: { rw: [missing] } })).message).toContain(`'${missing}' must be`);
    expect(thrown(() => argv({ command: [] })).message).toBe("no command to run in the sandbox");
  });

  test("scoped paths: the missing policy and targets that try to leave their base", () => {
    const byWorkspace =
      "source = 'workspace_path'\ntransforms = [{ op = 'strip_prefix', value = '/' }, { op = 'replace', from = '/', to = '-' }]";
    const rule = (missing: string, source = byWorkspace) =>
      `[[profiles.custom.scoped_paths]]\nname = 'data'\nbase_path = '~/data'\n${source}\naccess = 'ro'\nmissing = '${missing}'\n`;
    const scoped = (caseName: string, rules: string) => {
      const made = custom(caseName, "");
      mkdirSync(join(made.fx.home, "data"), { recursive: true });
      put(made.fx.systemFile, `profile = "custom"\n[profiles.custom]\n${rules}`);
      const profile = resolveEffectiveProfile({
        systemFile: made.fx.systemFile,
        home: made.fx.home,
        multiUser: false,
      });
      const argv = (log?: (m: string) => void) => made.argv({ profile, ...(log ? { log } : {}) });
      return { fx: made.fx, profile, argv };
    };

    const failing = scoped("scoped-fail", rule("fail"));
    const [first] = failing.profile.scoped_paths;
    if (!first) throw new Error("the profile has no scoped path");
    const target = scopedPathTarget(first, failing.fx.workspace);
    expect(target).toBe(`${failing.fx.home}/data/${failing.fx.workspace.slice(1).replaceAll("/", "-")}`);
    expect(thrown(() => failing.argv()).message).toBe(
      `scoped path 'data': target '${target}' does not exist`,
    );

    const warned: string[] = [];
    const warning = scoped("scoped-warn", rule("warn"));
    const built = warning.argv((m) => warned.push(m));
    expect(warned).toEqual([expect.stringContaining("scoped path 'data'")]);
    // The base stays hidden even though nothing is exposed in it.
    expect(built.join(" ")).toContain(`--tmpfs ${warning.fx.home}/data`);

    const escaping = scoped(
      "scoped-escape",
      rule("ignore", "source = 'literal'\nsource_literal = 'x/../../.ssh'"),
    );
    expect(thrown(() => escaping.argv()).message).toContain("is not strictly inside");
  });

  test("prepareSandboxDirs creates the writable places the read-only home needs, mode 0700", () => {
    const prepare = (name: BuiltinProfileName) => {
      const fx = buildHome(join(root, `prepare-${name}`, "home"), name);
      const profile = resolveEffectiveProfile({ systemFile: fx.systemFile, home: fx.home, multiUser: false });
      const again = () => prepareSandboxDirs({ profile, home: fx.home, workspace: fx.workspace });
      return { fx, created: again(), again };
    };
    const development = prepare("development");
    const toolchain = TOOLCHAIN_RW.map(([, path]) => (path ?? "").replace("@/home", development.fx.home));
    expect(development.created).toEqual(toolchain);
    for (const dir of toolchain) expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(development.again()).toEqual([]);
    expect(prepare("strict").created).toEqual([]);
  });

  test("features a hand-built profile claims but v1 cannot enforce are refused", () => {
    const { fx, profile } = fixture("strict");
    const options = { home: fx.home, workspace: fx.workspace, command: ["true"], kind: "agent" as const };
    expect(
      thrown(() => buildSandboxedCommand({ ...options, profile: { ...profile, seccomp_mode: "audit" } }))
        .message,
    ).toContain("not supported in this version");
    expect(
      thrown(() => buildSandboxedCommand({ ...options, profile: { ...profile, network: { mode: "proxy" } } }))
        .message,
    ).toContain("not supported in this version");
  });
});

describe("fail closed: bwrap", () => {
  test("bwrap missing from PATH: no argv, a sandbox_error that says why", () => {
    const empty = join(root, "empty-path");
    mkdirSync(empty, { recursive: true });
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      expect(thrown(() => build("strict")).message).toContain(
        "bubblewrap (bwrap) is not installed or not on PATH",
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  test("a bwrap that does not answer --version as bubblewrap is refused", () => {
    const cases: Array<[string, string]> = [
      ["/usr/bin/false", "(exit code 1: false (GNU coreutils) 9.1)"],
      ["/usr/bin/true", "(exit code 0: true (GNU coreutils) 9.1)"],
    ];
    for (const [binary, detail] of cases) {
      const dir = join(root, `fake-bwrap-${binary.split("/").pop()}`);
      mkdirSync(dir, { recursive: true });
      symlinkSync(binary, join(dir, "bwrap"));
      expect(thrown(() => detectBwrap(dir)).message).toBe(
        `${dir}/bwrap --version did not answer as bubblewrap ${detail}; the sandbox cannot start`,
      );
    }
  });

  test("the real bwrap answers with its version", () => {
    expect(detectBwrap().version).toMatch(/^\d+\.\d+/);
  });
});
