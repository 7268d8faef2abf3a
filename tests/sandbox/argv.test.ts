import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ProtocolError } from "../../src/protocol/common.ts";
import { buildSandboxedCommand, type SandboxCommandOptions } from "../../src/runner/sandbox/argv-builder.ts";
import { detectBwrap } from "../../src/runner/sandbox/detect.ts";
import type { EffectiveProfile } from "../../src/runner/sandbox/effective-profile.ts";
import { prepareSandboxDirs } from "../../src/runner/sandbox/prepare.ts";
import { resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";
import type { ScopedPathRule } from "../../src/runner/sandbox/profile-schema.ts";
import { scopedPathTarget } from "../../src/runner/sandbox/scoped-paths.ts";
import { buildHome, type HomeFixture, put } from "./helpers.ts";

/**
 * Golden argv per built-in profile (SANDBOX.md §4, steps 1–15) on this test host (Debian 12,
 * merged /usr: /bin, /lib, /lib64 and /sbin are symlinks; /usr/bin/systemctl exists; no
 * /run/systemd/resolve). `@` stands for the temp root, `@SHARD` for the workspace's pi session
 * shard name. The fixture has ~/.ssh and ~/.aws but no ~/.gnupg, so that step is skipped.
 */
const STEP_1 = [
  ["--ro-bind", "/usr", "/usr"],
  ["--symlink", "usr/lib", "/lib"],
  ["--symlink", "usr/lib64", "/lib64"],
  ["--symlink", "usr/bin", "/bin"],
  ["--symlink", "usr/sbin", "/sbin"],
  ["--ro-bind", "/etc", "/etc"],
];
const STEPS_2_3 = [
  ["--proc", "/proc", "--dev", "/dev"],
  ["--tmpfs", "/tmp"],
];
const STEPS_6_7 = [
  ["--bind", "@/home/oqto/proj", "@/home/oqto/proj"],
  ["--chdir", "@/home/oqto/proj"],
  ["--ro-bind", "@/home/oqto/proj/.oqto", "@/home/oqto/proj/.oqto"],
];
const CREDENTIALS_HIDDEN = [
  ["--tmpfs", "@/home/.ssh"],
  ["--tmpfs", "@/home/.aws"],
  ["--ro-bind", "/dev/null", "/usr/bin/systemctl"],
  ["--ro-bind", "/dev/null", "/usr/bin/systemd-run"],
];
const SYSTEM_FILE_RO = ["--ro-bind", "@/home/.config/oqto/sandbox.toml", "@/home/.config/oqto/sandbox.toml"];
const WORKSPACE_FILE_RO = [
  "--ro-bind",
  "@/home/oqto/proj/.oqto/sandbox.toml",
  "@/home/oqto/proj/.oqto/sandbox.toml",
];
const STEP_10 = [
  ["--tmpfs", "@/home/.pi/agent/sessions"],
  ["--bind", "@/home/.pi/agent/sessions/@SHARD", "@/home/.pi/agent/sessions/@SHARD"],
];
const CALLER_BINDS = [
  ["--ro-bind", "@/pi", "@/pi"],
  ["--bind", "@/run/s1", "@/run/s1"],
];
const STEP_12 = [
  [
    "--setenv",
    "PATH",
    "/usr/local/bin:/usr/bin:/bin:@/home/.cargo/bin:@/home/go/bin:@/home/.local/bin:@/home/.bun/bin:@/home/.npm-global/bin",
  ],
  ["--unsetenv", "XDG_RUNTIME_DIR", "--unsetenv", "DBUS_SESSION_BUS_ADDRESS"],
];
const STEPS_14_15 = [
  ["--new-session", "--die-with-parent"],
  ["--", "/usr/bin/bun", "@/pi/cli.js", "--mode", "rpc"],
];

const GOLDEN: Record<"minimal" | "development" | "strict", string[][]> = {
  minimal: [
    ...STEP_1,
    ...STEPS_2_3,
    ["--bind", "@/home", "@/home"],
    ...STEPS_6_7,
    ...CREDENTIALS_HIDDEN,
    SYSTEM_FILE_RO,
    WORKSPACE_FILE_RO,
    ...STEP_10,
    ...CALLER_BINDS,
    ...STEP_12,
    ["--unshare-user"],
    ...STEPS_14_15,
  ],
  development: [
    ...STEP_1,
    ...STEPS_2_3,
    ["--bind", "@/home", "@/home"],
    ...STEPS_6_7,
    ...CREDENTIALS_HIDDEN,
    // deny_write ~/.config/oqto/sandbox.toml is also the active system file: bound once.
    SYSTEM_FILE_RO,
    WORKSPACE_FILE_RO,
    ...STEP_10,
    ...CALLER_BINDS,
    ...STEP_12,
    ["--unshare-user", "--unshare-pid", "--disable-userns"],
    ...STEPS_14_15,
  ],
  strict: [
    ...STEP_1,
    ...STEPS_2_3,
    ["--ro-bind", "@/home", "@/home"],
    ...STEPS_6_7,
    ...CREDENTIALS_HIDDEN,
    ["--tmpfs", "@/home/.config"],
    // The system file lies inside the hidden ~/.config: not re-bound in step 9 ...
    WORKSPACE_FILE_RO,
    ...STEP_10,
    // ... but ~/.config/oqto comes back read-only through extra_ro_bind (step 11).
    ["--ro-bind", "@/home/.config/oqto", "@/home/.config/oqto"],
    ...CALLER_BINDS,
    ...STEP_12,
    [
      "--unshare-user",
      "--unshare-pid",
      "--unshare-net",
      "--cap-drop",
      "ALL",
      "--disable-userns",
      "--assert-userns-disabled",
    ],
    ...STEPS_14_15,
  ],
};

let root: string;
const fixtures = new Map<string, { fx: HomeFixture; profile: EffectiveProfile }>();

/** One fixture home per profile: the global and the workspace file both name the profile. */
function fixture(name: "minimal" | "development" | "strict") {
  const existing = fixtures.get(name);
  if (existing) return existing;
  const fx = buildHome(join(root, name, "home"), name);
  const profile = resolveEffectiveProfile({
    systemFile: fx.systemFile,
    workspacePath: fx.workspace,
    home: fx.home,
    multiUser: false,
  });
  prepareSandboxDirs({ profile, home: fx.home, workspace: fx.workspace });
  mkdirSync(join(root, name, "pi"), { recursive: true });
  mkdirSync(join(root, name, "run", "s1"), { recursive: true });
  fixtures.set(name, { fx, profile });
  return { fx, profile };
}

function build(name: "minimal" | "development" | "strict", overrides: Partial<SandboxCommandOptions> = {}) {
  const { fx, profile } = fixture(name);
  const base = join(root, name);
  return buildSandboxedCommand({
    profile,
    home: fx.home,
    workspace: fx.workspace,
    command: ["/usr/bin/bun", `${base}/pi/cli.js`, "--mode", "rpc"],
    kind: "agent",
    inheritedPath: "/usr/local/bin:/usr/bin",
    extraRoBinds: [`${base}/pi`],
    runtimeDir: `${base}/run/s1`,
    ...overrides,
  });
}

function firstRule(profile: EffectiveProfile): ScopedPathRule {
  const [rule] = profile.scoped_paths;
  if (!rule) throw new Error("the profile has no scoped path");
  return rule;
}

function sandboxError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("sandbox_error");
    return (error as Error).message;
  }
  throw new Error("expected a sandbox_error");
}

beforeAll(() => {
  root = mkdtempSync("/tmp/sba-");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("golden argv per built-in profile", () => {
  for (const name of ["minimal", "development", "strict"] as const) {
    test(name, () => {
      const base = join(root, name);
      const shard = `--${base.slice(1).replaceAll("/", "-")}-home-oqto-proj--`;
      const expected = GOLDEN[name]
        .flat()
        .map((arg) => arg.replaceAll("@SHARD", shard).replaceAll("@", base));
      const argv = build(name);
      expect(argv[0]).toBe(detectBwrap().path);
      expect(argv.slice(1)).toEqual(expected);
    });
  }

  test("no argv binds or passes the user's runtime dir (systemd/D-Bus)", () => {
    for (const name of ["minimal", "development", "strict"] as const) {
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
    const fx = buildHome(join(root, caseName, "home"), "custom");
    put(fx.systemFile, `profile = "custom"\n[profiles.custom]\n${profileToml}\n`);
    put(join(fx.workspace, ".oqto", "sandbox.toml"), "");
    const profile = resolveEffectiveProfile({
      systemFile: fx.systemFile,
      workspacePath: fx.workspace,
      home: fx.home,
      multiUser: false,
    });
    const argv = (overrides: Partial<SandboxCommandOptions> = {}) =>
      buildSandboxedCommand({
        profile,
        home: fx.home,
        workspace: fx.workspace,
        command: ["true"],
        kind: "agent",
        ...overrides,
      });
    return { fx, profile, argv };
  }
  /** Index of the triple `flag src dest` (or pair for --tmpfs) in argv, -1 when absent. */
  const at = (argv: string[], ...args: string[]) =>
    argv.findIndex((_, i) => args.every((arg, j) => argv[i + j] === arg));

  test("a workspace without .oqto gets an empty tmpfs there", () => {
    const { fx, argv } = custom("bare", "");
    const built = argv({ workspace: fx.bareWorkspace });
    expect(at(built, "--tmpfs", `${fx.bareWorkspace}/.oqto`)).toBeGreaterThan(at(built, "--chdir"));
  });

  test("deny_write inside a deny_read path is skipped; elsewhere it is bound read-only after the denies", () => {
    const { fx, argv } = custom(
      "denywrite",
      'deny_read = ["~/.config"]\ndeny_write = ["~/.config/other/token", "~/oqto/proj/README.md", "~/nonexistent"]',
    );
    const built = argv();
    expect(built).not.toContain(`${fx.home}/.config/other/token`);
    expect(built).not.toContain(`${fx.home}/nonexistent`);
    const readme = `${fx.workspace}/README.md`;
    expect(at(built, "--ro-bind", readme, readme)).toBeGreaterThan(
      at(built, "--tmpfs", `${fx.home}/.config`),
    );
  });

  test("a later bind never re-exposes a deny_read path inside it", () => {
    const { fx, argv } = custom(
      "rehide",
      'deny_read = ["~/.config", "~/.config/oqto/secret.toml"]\nextra_ro_bind = ["~/.config/oqto"]',
    );
    put(`${fx.home}/.config/oqto/secret.toml`, "SECRET\n");
    const built = argv();
    const secret = `${fx.home}/.config/oqto/secret.toml`;
    const bound = at(built, "--ro-bind", `${fx.home}/.config/oqto`, `${fx.home}/.config/oqto`);
    expect(bound).toBeGreaterThan(0);
    expect(at(built.slice(bound), "--ro-bind", "/dev/null", secret)).toBe(3);
  });

  test("the workspace cannot lie inside a hidden path", () => {
    const { fx, argv } = custom("hiddenws", 'deny_read = ["~/oqto"]');
    expect(sandboxError(() => argv())).toBe(
      `workspace '${fx.workspace}' lies inside deny_read path '${fx.home}/oqto'`,
    );
  });

  test("/run/user and XDG_RUNTIME_DIR are never bound, not even read-only or via a parent", () => {
    expect(sandboxError(() => custom("runuser", 'extra_ro_bind = ["/run/user"]').argv())).toBe(
      "refusing to bind '/run/user': it would expose '/run/user'",
    );
    expect(sandboxError(() => custom("run", 'extra_ro_bind = ["/run"]').argv())).toContain("it would expose");
    const runtime = join(root, "xdg-runtime");
    mkdirSync(join(runtime, "oqto"), { recursive: true });
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    try {
      const { argv } = custom("xdg", "");
      expect(sandboxError(() => argv({ runtimeDir: join(runtime, "oqto") }))).toBe(
        `refusing to bind '${runtime}/oqto': it would expose '${runtime}'`,
      );
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  test("caller binds must exist and be plain absolute paths", () => {
    const { argv } = custom("callerbinds", "");
    expect(sandboxError(() => argv({ extraRoBinds: ["/no/such/dir"] }))).toBe(
      "extra read-only bind '/no/such/dir' does not exist",
    );
    expect(sandboxError(() => argv({ extraRoBinds: ["relative/pi"] }))).toContain("must be an absolute path");
    expect(sandboxError(() => argv({ runtimeDir: "/usr/../run" }))).toContain("without '..'");
    expect(sandboxError(() => argv({ command: [] }))).toBe("no command to run in the sandbox");
  });

  test("scoped paths: the missing policy and targets that try to leave their base", () => {
    const rule = (missing: string, source = "source = 'workspace_path'") =>
      `[[profiles.custom.scoped_paths]]\nname = 'data'\nbase_path = '~/data'\n${source}\naccess = 'ro'\nmissing = '${missing}'\n`;
    const scoped = (caseName: string, rules: string) => {
      const fx = buildHome(join(root, caseName, "home"), "custom");
      mkdirSync(join(fx.home, "data"), { recursive: true });
      put(fx.systemFile, `profile = "custom"\n[profiles.custom]\n${rules}`);
      const profile = resolveEffectiveProfile({
        systemFile: fx.systemFile,
        workspacePath: fx.workspace,
        home: fx.home,
        multiUser: false,
      });
      return { fx, profile };
    };
    const run = (s: ReturnType<typeof scoped>, log?: (m: string) => void) =>
      buildSandboxedCommand({
        profile: s.profile,
        home: s.fx.home,
        workspace: s.fx.workspace,
        command: ["true"],
        kind: "agent",
        ...(log ? { log } : {}),
      });

    const failing = scoped("scoped-fail", rule("fail"));
    const target = scopedPathTarget(firstRule(failing.profile), failing.fx.workspace);
    expect(sandboxError(() => run(failing))).toBe(`scoped path 'data': target '${target}' does not exist`);

    const warned: string[] = [];
    const warning = scoped("scoped-warn", rule("warn"));
    const built = run(warning, (m) => warned.push(m));
    expect(warned).toEqual([expect.stringContaining("scoped path 'data'")]);
    // The base stays hidden even though nothing is exposed in it.
    expect(built.join(" ")).toContain(`--tmpfs ${warning.fx.home}/data`);

    const escaping = scoped(
      "scoped-escape",
      rule("ignore", "source = 'literal'\nsource_literal = 'x/../../.ssh'"),
    );
    expect(sandboxError(() => run(escaping))).toContain("is not strictly inside");
  });

  test("prepareSandboxDirs creates the writable places a read-only home needs, mode 0700", () => {
    const prepare = (name: "development" | "strict") => {
      const fx = buildHome(join(root, `prepare-${name}`, "home"), name);
      const profile = resolveEffectiveProfile({
        systemFile: fx.systemFile,
        workspacePath: fx.workspace,
        home: fx.home,
        multiUser: false,
      });
      return {
        fx,
        profile,
        created: prepareSandboxDirs({ profile, home: fx.home, workspace: fx.workspace }),
      };
    };
    const strict = prepare("strict");
    const shard = scopedPathTarget(firstRule(strict.profile), strict.fx.workspace);
    expect(strict.created).toEqual([shard]);
    expect(statSync(shard).mode & 0o777).toBe(0o700);
    expect(
      prepareSandboxDirs({ profile: strict.profile, home: strict.fx.home, workspace: strict.fx.workspace }),
    ).toEqual([]);
    // A writable home needs no bind targets, only the session shard.
    const development = prepare("development");
    expect(development.created).toEqual([
      scopedPathTarget(firstRule(development.profile), development.fx.workspace),
    ]);
  });

  test("the pi-sessions rule names the shard exactly as pi does", () => {
    const { profile } = fixture("development");
    const rule = { ...firstRule(profile), base_path: "/home/alice/.pi/agent/sessions" };
    expect(scopedPathTarget(rule, "/home/alice/oqto/my:proj")).toBe(
      "/home/alice/.pi/agent/sessions/--home-alice-oqto-my-proj--",
    );
  });

  test("features a hand-built profile claims but v1 cannot enforce are refused", () => {
    const { fx, profile } = fixture("strict");
    const options = { home: fx.home, workspace: fx.workspace, command: ["true"], kind: "agent" as const };
    expect(
      sandboxError(() =>
        buildSandboxedCommand({ ...options, profile: { ...profile, seccomp_mode: "audit" } }),
      ),
    ).toContain("not supported in this version");
    expect(
      sandboxError(() =>
        buildSandboxedCommand({ ...options, profile: { ...profile, network: { mode: "proxy" } } }),
      ),
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
      expect(sandboxError(() => build("strict"))).toContain(
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
      expect(sandboxError(() => detectBwrap(dir))).toBe(
        `${dir}/bwrap --version did not answer as bubblewrap ${detail}; the sandbox cannot start`,
      );
    }
  });

  test("the real bwrap answers with its version", () => {
    expect(detectBwrap().version).toMatch(/^\d+\.\d+/);
  });
});
