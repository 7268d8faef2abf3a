/** Fixtures for the sandbox tests: sandbox files on disk, a home full of secrets, a real Linux user. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Writes `text` to `path`, creating the parent directories. */
export function put(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** The files an attacker wants, plus oqto's own sandbox file in its single-user place. */
export interface HomeFixture {
  home: string;
  /** `<home>/oqto/proj`, with a `.oqto/sandbox.toml` override. */
  workspace: string;
  /** `<home>/oqto/bare`, with no `.oqto` at all. */
  bareWorkspace: string;
  /** The single-user global sandbox file, `<home>/.config/oqto/sandbox.toml`. */
  systemFile: string;
}

/**
 * A home with `.ssh`, `.aws` and `.config/other` secrets (and no `.gnupg`, to exercise the
 * existence checks), a workspace that has an override file and one that has none.
 */
export function buildHome(home: string, profile: string): HomeFixture {
  put(join(home, ".ssh", "id_rsa"), "SECRET-SSH-KEY\n");
  put(join(home, ".aws", "credentials"), "SECRET-AWS\n");
  put(join(home, ".config", "other", "token"), "SECRET-CONFIG\n");
  const systemFile = put(join(home, ".config", "oqto", "sandbox.toml"), `profile = "${profile}"\n`);
  const workspace = join(home, "oqto", "proj");
  put(join(workspace, ".oqto", "sandbox.toml"), `profile = "${profile}"\n`);
  put(join(workspace, "README.md"), "workspace file\n");
  const bareWorkspace = join(home, "oqto", "bare");
  mkdirSync(bareWorkspace, { recursive: true });
  return { home, workspace, bareWorkspace, systemFile };
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
