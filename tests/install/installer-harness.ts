/**
 * Runs the real install.sh for the installer tests, against the one prebuilt dist/oqto (the test
 * command builds it first; OQTO_BINARY makes the installer use it instead of building again), with
 * every system root it writes redirected into a scratch directory.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess } from "../helpers/run-process.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const INSTALL_SH = join(REPO, "install.sh");
export const BINARY = join(REPO, "dist/oqto");

/** dist/oqto, built when missing: the installer tests never build it more than once. */
export function prebuiltBinary(): string {
  if (!existsSync(BINARY)) {
    const build = Bun.spawnSync(["bun", "run", "build"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error("bun run build failed");
  }
  return BINARY;
}

/** A scratch root every user can pass through, as / is: runners of other users run the installed binary. */
export function scratchRoot(name: string): string {
  const root = mkdtempSync(`/var/tmp/oqto-install-${name}-`);
  chmodSync(root, 0o755);
  return root;
}

/** A unique Linux user name of this test run (`oqtoinst_<hex>`), removed again by `removeLinuxUser`. */
export function uniqueUserName(): string {
  return `oqtoinst_${Buffer.from(crypto.getRandomValues(new Uint8Array(3))).toString("hex")}`;
}

export function userExists(name: string): boolean {
  return Bun.spawnSync(["id", name], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

export function uidOf(name: string): number {
  return Number(Bun.spawnSync(["id", "-u", name]).stdout.toString().trim());
}

export interface InstallerRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `bash install.sh ARGS` with a clean environment: the XDG config dir in `root`, /etc/oqto and the
 * unit directory redirected (OQTO_ETC_DIR, OQTO_SYSTEMD_DIR), the prebuilt binary. HOME stays, so
 * that installing pi uses Bun's package cache.
 * `piped` feeds the script on stdin from another directory, as `curl … | bash` does.
 */
export function runInstaller(
  root: string,
  args: string[],
  options: { env?: Record<string, string>; piped?: boolean } = {},
): Promise<InstallerRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    XDG_CONFIG_HOME: join(root, "config"),
    OQTO_ETC_DIR: join(root, "etc/oqto"),
    OQTO_SYSTEMD_DIR: join(root, "etc/systemd/system"),
    OQTO_BINARY: prebuiltBinary(),
    ...options.env,
  };
  if (options.piped)
    return runProcess(["bash", "-s", "--", ...args], {
      env,
      cwd: root,
      stdin: readFileSync(INSTALL_SH, "utf8"),
    });
  return runProcess(["bash", INSTALL_SH, ...args], { env, cwd: root });
}
