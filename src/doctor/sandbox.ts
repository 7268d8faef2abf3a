import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSandboxedCommand } from "../runner/sandbox/argv-builder.ts";
import { type BwrapInfo, detectBwrap } from "../runner/sandbox/detect.ts";
import type { EffectiveProfile } from "../runner/sandbox/effective-profile.ts";
import { resolveEffectiveProfile } from "../runner/sandbox/profile-loader.ts";
import { type DoctorCheck, errorMessage, fail, notChecked, ok, warn } from "./check.ts";
import type { DoctorHost } from "./host.ts";

const BWRAP_FIX = "apt-get install bubblewrap (Debian/Ubuntu), or put bwrap on the PATH oqto runs with";
/** A hung trial sandbox must not hang the doctor. */
const TRIAL_TIMEOUT_MS = 10_000;
/** Bare user, pid and net namespaces: what every sandbox needs, whatever its profile. */
const BARE_NAMESPACES = [
  ...["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"],
  ...["--unshare-user", "--unshare-pid", "--unshare-net", "--die-with-parent", "true"],
];

/**
 * The global profile as the runner resolves it. A missing single-user file is resolved from a
 * scratch copy that the loader itself fills with its default, so the doctor reports that default
 * truthfully without writing into the user's data dir. Multi-user runners need the file in /etc.
 */
export function checkSandboxFile(
  host: DoctorHost,
  scratch: string,
): { result: DoctorCheck; profile?: EffectiveProfile } {
  const file = host.sandboxFile;
  const present = existsSync(file);
  const systemFile = present || host.multiUser ? file : join(scratch, "sandbox.toml");
  try {
    const profile = resolveEffectiveProfile({
      systemFile,
      home: host.options.home,
      multiUser: host.multiUser,
    });
    const detail = present
      ? `${file}: profile "${profile.global_profile}"`
      : `${file} not present; the runner writes its default at first start (profile "${profile.global_profile}", enabled = ${profile.enabled})`;
    return { result: ok("sandbox-file", detail), profile };
  } catch (error) {
    const fix =
      host.multiUser && !present
        ? `run install.sh (it writes ${file}), or create it as root: a file with profile = "development", chmod 644`
        : `correct the key named above in ${file} (unknown keys are errors; built-in profiles: minimal, development, strict); until then no agent or terminal starts`;
    return { result: fail("sandbox-file", errorMessage(error), fix) };
  }
}

export function checkSandboxEnabled(profile: EffectiveProfile, sandboxFile: string): DoctorCheck {
  if (profile.enabled) return ok("sandbox", "enabled: agents and terminals run under bubblewrap");
  return warn(
    "sandbox",
    `enabled = false: agents and terminals run UNSANDBOXED with all of this user's rights`,
    `set enabled = true in ${sandboxFile}`,
  );
}

/** Missing bwrap fails only while the sandbox is (or may be) on: off, nothing needs it. */
export function checkBwrap(path: string, sandboxOn: boolean): { result: DoctorCheck; bwrap?: BwrapInfo } {
  try {
    const bwrap = detectBwrap(path);
    return { result: ok("bwrap", `bubblewrap ${bwrap.version} (${bwrap.path})`), bwrap };
  } catch (error) {
    if (sandboxOn) return { result: fail("bwrap", errorMessage(error), BWRAP_FIX) };
    const why = errorMessage(error).split(";")[0];
    return {
      result: warn("bwrap", `not usable (${why}); nothing needs it while the sandbox is disabled`, BWRAP_FIX),
    };
  }
}

export const bwrapMissing = (): DoctorCheck =>
  notChecked("userns", "bubblewrap is missing", `${BWRAP_FIX}, then run oqto doctor again`);

function readSwitch(procSysDir: string, name: string): string | undefined {
  try {
    return readFileSync(join(procSysDir, name), "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * A kernel switch that keeps every agent from its user namespace. Agents never run as root, so a
 * switch that blocks only unprivileged users counts even when a trial run as root succeeds.
 */
function blockingSwitch(procSysDir: string): { detail: string; fix: string } | undefined {
  const file = (name: string) => join(procSysDir, name);
  if (readSwitch(procSysDir, "user/max_user_namespaces") === "0") {
    return {
      detail: `user.max_user_namespaces is 0 (${file("user/max_user_namespaces")}): no sandbox can create its user namespace`,
      fix: "sysctl -w user.max_user_namespaces=15000, and persist it: echo user.max_user_namespaces=15000 > /etc/sysctl.d/50-oqto-userns.conf",
    };
  }
  if (readSwitch(procSysDir, "kernel/unprivileged_userns_clone") === "0") {
    return {
      detail: `kernel.unprivileged_userns_clone is 0 (${file("kernel/unprivileged_userns_clone")}): unprivileged users, whom agents run as, cannot create user namespaces`,
      fix: "sysctl -w kernel.unprivileged_userns_clone=1, and persist it: echo kernel.unprivileged_userns_clone=1 > /etc/sysctl.d/50-oqto-userns.conf",
    };
  }
  return undefined;
}

/** The host setting that most likely made a trial sandbox fail. */
function failedTrialFix(procSysDir: string): string {
  if (readSwitch(procSysDir, "kernel/apparmor_restrict_unprivileged_userns") === "1") {
    return "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile that lets bwrap create user namespaces";
  }
  return "allow unprivileged user namespaces (user.max_user_namespaces > 0); in a container also allow them (e.g. docker --security-opt seccomp=unconfined --security-opt apparmor=unconfined)";
}

function trialArgv(
  host: DoctorHost,
  scratch: string,
  bwrap: BwrapInfo,
  profile: EffectiveProfile | undefined,
): { argv: string[]; what: string } {
  if (!profile?.enabled) return { argv: [bwrap.path, ...BARE_NAMESPACES], what: "bare namespaces" };
  const workspace = join(scratch, "workspace");
  mkdirSync(workspace, { mode: 0o700 });
  // Scoped paths are per workspace, and the trial workspace is a scratch directory.
  const argv = buildSandboxedCommand({
    profile: { ...profile, scoped_paths: [] },
    hiddenPaths: [host.dataDir, host.options.configDir],
    home: host.options.home,
    workspace,
    command: ["true"],
    kind: "agent",
  });
  return { argv, what: `profile "${profile.global_profile}"` };
}

function trialFailure(run: ReturnType<typeof Bun.spawnSync>): string {
  const output = run.stderr?.toString().trim() ?? "";
  const why = run.exitedDueToTimeout ? `timed out after ${TRIAL_TIMEOUT_MS} ms` : `exit code ${run.exitCode}`;
  return `${why}${output ? `: ${output}` : ""}`;
}

/**
 * The kernel switches, then a real sandbox running `true`: the global profile's full argv when the
 * sandbox is on, else bwrap's bare namespaces. Run as root, the doctor also starts bare namespaces
 * as the unprivileged account agents run as, which is what AppArmor and the sysctls restrict.
 */
export function checkUserNamespaces(
  host: DoctorHost,
  scratch: string,
  bwrap: BwrapInfo,
  profile: EffectiveProfile | undefined,
): DoctorCheck {
  // Only a sandbox that is on needs the namespaces; off, a failure is worth knowing, not fatal.
  const report = profile && !profile.enabled ? warn : fail;
  const blocked = blockingSwitch(host.options.procSysDir);
  if (blocked) return report("userns", blocked.detail, blocked.fix);
  let trial: { argv: string[]; what: string };
  try {
    trial = trialArgv(host, scratch, bwrap, profile);
  } catch (error) {
    return fail(
      "userns",
      `the profile "${profile?.global_profile}" cannot be applied here: ${errorMessage(error)}`,
      `change the setting named above in ${host.sandboxFile}`,
    );
  }
  const run = Bun.spawnSync(trial.argv, {
    stdout: "ignore",
    stderr: "pipe",
    env: {},
    timeout: TRIAL_TIMEOUT_MS,
  });
  const fix = failedTrialFix(host.options.procSysDir);
  if (!run.success)
    return report("userns", `a trial sandbox (${trial.what}) failed (${trialFailure(run)})`, fix);
  const detail = `a real sandbox (${trial.what}) started and ran \`true\``;
  const account = host.agentAccount;
  if (!account) return ok("userns", detail);
  const asAgent = Bun.spawnSync([bwrap.path, ...BARE_NAMESPACES], {
    stdout: "ignore",
    stderr: "pipe",
    env: {},
    cwd: "/",
    uid: account.uid,
    gid: account.gid,
    timeout: TRIAL_TIMEOUT_MS,
  });
  if (!asAgent.success) {
    return report(
      "userns",
      `${detail} as root, but not as ${account.username} (uid ${account.uid}), the kind of user agents run as (${trialFailure(asAgent)})`,
      fix,
    );
  }
  return ok("userns", `${detail}; bare namespaces as ${account.username} too`);
}
