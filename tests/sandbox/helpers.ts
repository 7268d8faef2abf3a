/** Fixtures for the sandbox tests: a home full of secrets and login files, Oqto's state, a real Linux user. */
import { expect } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ProtocolError } from "../../src/protocol/common.ts";
import { buildSandboxedCommand, type SandboxCommandOptions } from "../../src/runner/sandbox/argv-builder.ts";
import { resolveEffectiveProfile } from "../../src/runner/sandbox/profile-loader.ts";

/** Writes `text` to `path`, creating the parent directories. */
export function put(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A user's home as the runner finds it: secrets, login files, Oqto's data dir and two workspaces. */
export interface HomeFixture {
  home: string;
  /** `<home>/oqto`: the user's workspace root. */
  workspaceRoot: string;
  /** `<home>/oqto/proj`, with Oqto's `.oqto` metadata dir. */
  workspace: string;
  /** `<home>/oqto/bare`, with no `.oqto` at all. */
  bareWorkspace: string;
  /** Oqto's data dir, `<home>/.local/share/oqto`: what the runner hides from every sandbox. */
  dataDir: string;
  /** The system sandbox file in the data dir, naming the fixture's profile. */
  systemFile: string;
}

/**
 * A home with `.ssh`, `.aws`, `.config/other` and the user's own pi login (and no `.gnupg`, to
 * exercise the existence checks), login files, and the single-user system file in a data dir
 * the runner would trust (0700/0600, owned by the test's own user).
 */
export function buildHome(home: string, profile: string): HomeFixture {
  put(join(home, ".ssh", "id_rsa"), "SECRET-SSH-KEY\n");
  put(join(home, ".aws", "credentials"), "SECRET-AWS\n");
  put(join(home, ".config", "other", "token"), "SECRET-CONFIG\n");
  put(join(home, ".pi", "agent", "auth.json"), '{"secret": "SECRET-PI-LOGIN"}\n');
  put(join(home, ".bashrc"), "# bashrc\n");
  put(join(home, ".profile"), "# profile\n");
  const dataDir = join(home, ".local", "share", "oqto");
  const systemFile = put(join(dataDir, "sandbox.toml"), `profile = "${profile}"\n`);
  chmodSync(dataDir, 0o700);
  chmodSync(systemFile, 0o600);
  const workspaceRoot = join(home, "oqto");
  const workspace = join(workspaceRoot, "proj");
  put(join(workspace, ".oqto", "workspace.json"), "{}\n");
  put(join(workspace, "README.md"), "workspace file\n");
  const bareWorkspace = join(workspaceRoot, "bare");
  mkdirSync(bareWorkspace, { recursive: true });
  return { home, workspaceRoot, workspace, bareWorkspace, dataDir, systemFile };
}

/** The ProtocolError `run` throws, checked for `code`; fails the test when it throws none. */
export function thrown(run: () => unknown, code: ProtocolError["code"] = "sandbox_error"): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(code);
    return error as ProtocolError;
  }
  throw new Error(`expected a ${code}`);
}

/** Runs a command synchronously and returns its output; throws with stderr when it fails. */
function run(argv: string[]): string {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (!result.success) throw new Error(`${argv.join(" ")}: ${result.stderr.toString().trim()}`);
  return result.stdout.toString().trim();
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Removes the user and its group; safe to call twice. */
  remove(): void;
}

/**
 * A real unprivileged Linux user (`oqtotest_<random>`) whose home is `home`. The parent of the
 * home is made traversable so that the user can reach it; the caller removes the user in afterAll.
 */
export function createTestUser(home: string): TestUser {
  const name = `oqtotest_${Math.random().toString(36).slice(2, 10)}`;
  mkdirSync(home, { recursive: true });
  chmodSync(dirname(home), 0o755);
  run(["useradd", "--no-create-home", "--user-group", "--home-dir", home, "--shell", "/bin/sh", name]);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    Bun.spawnSync(["userdel", name], { stdout: "ignore", stderr: "ignore" });
    Bun.spawnSync(["groupdel", name], { stdout: "ignore", stderr: "ignore" });
  };
  try {
    return { name, uid: Number(run(["id", "-u", name])), gid: Number(run(["id", "-g", name])), home, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** Gives the whole tree to the user, as if the user had created it. */
export function chownTree(path: string, user: TestUser): void {
  run(["chown", "-R", `${user.uid}:${user.gid}`, path]);
}

/**
 * A fresh fixture home whose system file selects a custom profile (`profileToml` is its body),
 * and the argv builder for it; `arrange` shapes the home before the profile is resolved.
 */
export function customProfileCase(
  home: string,
  profileToml: string,
  arrange: (fx: HomeFixture) => void = () => {},
) {
  const fx = buildHome(home, "custom");
  arrange(fx);
  put(fx.systemFile, `profile = "custom"\n[profiles.custom]\n${profileToml}\n`);
  const profile = resolveEffectiveProfile({ systemFile: fx.systemFile, home: fx.home, multiUser: false });
  const argv = (overrides: Partial<SandboxCommandOptions> = {}) =>
    buildSandboxedCommand({
      profile,
      home: fx.home,
      workspace: fx.workspace,
      workspaceRoot: fx.workspaceRoot,
      hiddenPaths: [fx.dataDir],
      command: ["true"],
      kind: "agent",
      ...overrides,
    });
  return { fx, profile, argv };
}
