import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Config } from "../config/schema.ts";
import { resolvePi } from "../runner/pi-install.ts";
import { buildSandboxedCommand } from "../runner/sandbox/argv-builder.ts";
import { type BwrapInfo, detectBwrap } from "../runner/sandbox/detect.ts";
import type { EffectiveProfile } from "../runner/sandbox/effective-profile.ts";
import { resolveEffectiveProfile } from "../runner/sandbox/profile-loader.ts";
import { checkProviderKeys } from "./doctor-provider-keys.ts";

export const DoctorCheckSchema = z.strictObject({
  check: z.string().min(1),
  status: z.enum(["ok", "warn", "fail"]),
  detail: z.string(),
  /** What to do about it; present for warn and fail. */
  fix: z.string().optional(),
});
export type DoctorCheck = z.infer<typeof DoctorCheckSchema>;

export interface DoctorOptions {
  /** Loads the config exactly as serve and runner do; throws on a config error. */
  loadConfig: () => Config;
  /** The config file that loader reads (the default location or --config). */
  configFile: string;
  /** The system sandbox file (`/etc/oqto/sandbox.toml`, else `<data dir>/sandbox.toml`). */
  sandboxFile: string;
  dataDir: string;
  home: string;
  /** What the runner hides from every sandbox (data dir, config dir): the trial run hides it too. */
  hiddenPaths: string[];
}

const BWRAP_FIX = "apt-get install bubblewrap (Debian/Ubuntu), or put bwrap on the PATH oqto runs with";
/** A hung trial sandbox must not hang the doctor. */
const TRIAL_TIMEOUT_MS = 10_000;

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function checkConfig(options: DoctorOptions): { result: DoctorCheck; config?: Config } {
  try {
    const config = options.loadConfig();
    const detail = existsSync(options.configFile)
      ? `${options.configFile} loaded`
      : `${options.configFile} not present; built-in defaults apply`;
    return { result: { check: "config", status: "ok", detail }, config };
  } catch (error) {
    return {
      result: {
        check: "config",
        status: "fail",
        detail: errorMessage(error),
        fix: `correct or remove the key named above in ${options.configFile} (docs/CONFIGURATION.md lists every key)`,
      },
    };
  }
}

/**
 * The global profile as the runner resolves it. A missing single-user file is resolved from a
 * scratch copy that the loader itself fills with its default, so the doctor reports that default
 * truthfully without writing into the user's config dir.
 */
function checkSandboxFile(
  options: DoctorOptions,
  scratch: string,
): { result: DoctorCheck; profile?: EffectiveProfile } {
  const present = existsSync(options.sandboxFile);
  const systemFile = present ? options.sandboxFile : join(scratch, "sandbox.toml");
  try {
    const profile = resolveEffectiveProfile({ systemFile, home: options.home, multiUser: false });
    const detail = present
      ? `${options.sandboxFile}: profile "${profile.global_profile}"`
      : `${options.sandboxFile} not present; the runner writes its default at first start (profile "${profile.global_profile}", enabled = ${profile.enabled})`;
    return { result: { check: "sandbox-file", status: "ok", detail }, profile };
  } catch (error) {
    return {
      result: {
        check: "sandbox-file",
        status: "fail",
        detail: errorMessage(error),
        fix: `correct the key named above in ${options.sandboxFile} (unknown keys are errors; built-in profiles: minimal, development, strict); until then no agent or terminal starts`,
      },
    };
  }
}

function checkSandboxEnabled(profile: EffectiveProfile, sandboxFile: string): DoctorCheck {
  if (profile.enabled) {
    return { check: "sandbox", status: "ok", detail: "enabled: agents and terminals run under bubblewrap" };
  }
  return {
    check: "sandbox",
    status: "warn",
    detail: `enabled = false: agents and terminals run UNSANDBOXED with all of this user's rights`,
    fix: `set enabled = true in ${sandboxFile}`,
  };
}

/** Missing bwrap fails only while the sandbox is (or may be) on: off, nothing needs it. */
function checkBwrap(sandboxOn: boolean): { result: DoctorCheck; bwrap?: BwrapInfo } {
  try {
    const bwrap = detectBwrap();
    return {
      result: { check: "bwrap", status: "ok", detail: `bubblewrap ${bwrap.version} (${bwrap.path})` },
      bwrap,
    };
  } catch (error) {
    if (sandboxOn)
      return { result: { check: "bwrap", status: "fail", detail: errorMessage(error), fix: BWRAP_FIX } };
    return {
      result: {
        check: "bwrap",
        status: "warn",
        detail: `not usable (${errorMessage(error).split(";")[0]}); nothing needs it while the sandbox is disabled`,
        fix: BWRAP_FIX,
      },
    };
  }
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The host setting that most likely keeps bwrap from creating its user namespace. */
function userNamespaceFix(): string {
  if (readSysctl("/proc/sys/user/max_user_namespaces") === "0") {
    return "sysctl -w user.max_user_namespaces=15000 (and persist it in /etc/sysctl.d/)";
  }
  if (readSysctl("/proc/sys/kernel/unprivileged_userns_clone") === "0") {
    return "sysctl -w kernel.unprivileged_userns_clone=1 (and persist it in /etc/sysctl.d/)";
  }
  if (readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1") {
    return "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile that lets bwrap create user namespaces";
  }
  return "allow unprivileged user namespaces (user.max_user_namespaces > 0); in a container also allow them (e.g. docker --security-opt seccomp=unconfined --security-opt apparmor=unconfined)";
}

/**
 * Starts a real sandbox and runs `true` in it: the global profile's full argv when the sandbox is
 * on, else bwrap's bare namespaces. Scoped paths are left out because their targets depend on
 * the workspace, and the trial workspace is a scratch directory.
 */
function checkUserNamespaces(
  options: DoctorOptions,
  scratch: string,
  bwrap: BwrapInfo,
  profile: EffectiveProfile | undefined,
): DoctorCheck {
  const workspace = join(scratch, "workspace");
  mkdirSync(workspace, { mode: 0o700 });
  let argv: string[];
  let what: string;
  if (profile?.enabled) {
    what = `profile "${profile.global_profile}"`;
    try {
      argv = buildSandboxedCommand({
        profile: { ...profile, scoped_paths: [] },
        hiddenPaths: options.hiddenPaths,
        home: options.home,
        workspace,
        command: ["true"],
        kind: "agent",
      });
    } catch (error) {
      return {
        check: "userns",
        status: "fail",
        detail: `the ${what} cannot be applied here: ${errorMessage(error)}`,
        fix: `change the setting named above in ${options.sandboxFile}`,
      };
    }
  } else {
    what = "bare namespaces";
    argv = [
      bwrap.path,
      ...["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"],
      ...["--unshare-user", "--unshare-pid", "--unshare-net", "--die-with-parent", "true"],
    ];
  }
  const run = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe", env: {}, timeout: TRIAL_TIMEOUT_MS });
  if (run.success) {
    return { check: "userns", status: "ok", detail: `a real sandbox (${what}) started and ran \`true\`` };
  }
  const output = run.stderr?.toString().trim() ?? "";
  // Only a sandbox that is on needs the namespaces; off, a failure is worth knowing, not fatal.
  const status = profile && !profile.enabled ? "warn" : "fail";
  const why = run.exitedDueToTimeout ? `timed out after ${TRIAL_TIMEOUT_MS} ms` : `exit code ${run.exitCode}`;
  return {
    check: "userns",
    status,
    detail: `a trial sandbox (${what}) failed (${why})${output ? `: ${output}` : ""}`,
    fix: userNamespaceFix(),
  };
}

function checkPi(config: Config): DoctorCheck {
  try {
    const pi = resolvePi(config);
    return { check: "pi", status: "ok", detail: `pi ${pi.version} (${pi.cli}, run by ${pi.runtime})` };
  } catch (error) {
    return {
      check: "pi",
      status: "fail",
      detail: errorMessage(error),
      fix: "run install.sh, or set pi.cli in the config (or OQTO_PI_CLI) to pi's dist/cli.js",
    };
  }
}

function checkDataDir(dataDir: string): DoctorCheck {
  const stat = statSync(dataDir, { throwIfNoEntry: false });
  if (!stat) {
    return { check: "data-dir", status: "ok", detail: `${dataDir} not created yet; serve creates it (0700)` };
  }
  if (!stat.isDirectory()) {
    return {
      check: "data-dir",
      status: "fail",
      detail: `${dataDir} exists but is not a directory`,
      fix: `move it away, or pass --data-dir DIR`,
    };
  }
  const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    return {
      check: "data-dir",
      status: "warn",
      detail: `${dataDir} is owned by uid ${stat.uid}, not by this user (uid ${uid})`,
      fix: `chown -R ${uid} ${dataDir}`,
    };
  }
  if ((stat.mode & 0o077) !== 0) {
    return {
      check: "data-dir",
      status: "warn",
      detail: `${dataDir} has mode ${mode}: group/other may reach the database, JWT secret and runner socket`,
      fix: `chmod 700 ${dataDir}`,
    };
  }
  return { check: "data-dir", status: "ok", detail: `${dataDir} (mode ${mode})` };
}

/** Every check, in dependency order. Nothing outside a scratch dir (removed again) is written. */
export function runDoctorChecks(options: DoctorOptions): DoctorCheck[] {
  const scratch = mkdtempSync("/tmp/oqto-doctor-");
  try {
    const results: DoctorCheck[] = [];
    const config = checkConfig(options);
    results.push(config.result);
    const sandbox = checkSandboxFile(options, scratch);
    results.push(sandbox.result);
    if (sandbox.profile) results.push(checkSandboxEnabled(sandbox.profile, options.sandboxFile));
    // An unreadable global file keeps the sandbox on: nothing starts unsandboxed (fail closed).
    const bwrap = checkBwrap(sandbox.profile?.enabled ?? true);
    results.push(bwrap.result);
    results.push(
      bwrap.bwrap
        ? checkUserNamespaces(options, scratch, bwrap.bwrap, sandbox.profile)
        : {
            check: "userns",
            status: "warn",
            detail: "not checked: bubblewrap is missing",
            fix: `${BWRAP_FIX}, then run oqto doctor again`,
          },
    );
    results.push(
      config.config
        ? checkPi(config.config)
        : {
            check: "pi",
            status: "warn",
            detail: "not checked: the config did not load",
            fix: "fix the config, then run oqto doctor again",
          },
    );
    results.push(checkDataDir(options.dataDir));
    results.push(checkProviderKeys(options.dataDir));
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
