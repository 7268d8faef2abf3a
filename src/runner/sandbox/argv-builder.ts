import { lstatSync, readlinkSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { ProtocolError } from "../../protocol/common.ts";
import { agentPath } from "../harness/pi/pi-spawn.ts";
import { detectBwrap } from "./detect.ts";
import { type EffectiveProfile, isNetworkIsolated } from "./effective-profile.ts";
import { isInside, normalizeAbsolute, unique } from "./paths.ts";
import { scopedPathTarget } from "./scoped-paths.ts";

/** Bound read-only from the host (or recreated as symlinks) to form the sandbox's root (§4 step 1). */
const SYSTEM_DIRS = ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc"];
/** The target of /etc/resolv.conf on systemd-resolved hosts. */
const RESOLVED_DIR = "/run/systemd/resolve";

export interface SandboxCommandOptions {
  profile: EffectiveProfile;
  /** The target user's home. */
  home: string;
  workspace: string;
  /** What runs inside: pi's runtime + cli, the bridge shim, or a shell. */
  command: string[];
  /** Terminals get no `--new-session`: it breaks job control in interactive shells. */
  kind: "agent" | "terminal";
  /** Per-session runtime dir (LLM bridge socket), bound read-write. */
  runtimeDir?: string;
  /** Files shown in place of others, read-only (the bridge's models.json over pi's). */
  fileOverlays?: { source: string; target: string }[];
  /** Host paths the command needs read-only (pi and its runtime when outside /usr). */
  extraRoBinds?: string[];
  /** Host directories the command must write (a configured flat pi session dir). */
  extraRwBinds?: string[];
  /** PATH the sandboxed command starts from (step 12); defaults to the runner's own. */
  inheritedPath?: string;
  /** Where `missing = "warn"` scoped paths are reported. */
  log?: (message: string) => void;
}

type PathKind = "dir" | "other";

/** What a host path is after following symlinks, or null when it does not exist. */
function kindOf(path: string): PathKind | null {
  try {
    return statSync(path).isDirectory() ? "dir" : "other";
  } catch {
    return null;
  }
}

function sandboxError(message: string): ProtocolError {
  return new ProtocolError("sandbox_error", message);
}

/** Caller-supplied paths must be plain absolute paths before they reach bwrap. */
function checkedAbsolute(label: string, path: string): string {
  if (!isAbsolute(path) || path.split("/").includes("..")) {
    throw sandboxError(`${label} must be an absolute path without '..': '${path}'`);
  }
  return normalizeAbsolute(path);
}

/**
 * The user's systemd and D-Bus sockets live here; reaching them from inside would let an agent
 * start processes outside the sandbox (`systemd-run --user`). Even a read-only bind exposes a
 * socket, so nothing that is, contains or lies inside these may be bound.
 */
function userBusDirs(): string[] {
  const runtime = process.env.XDG_RUNTIME_DIR;
  return runtime && isAbsolute(runtime) ? ["/run/user", normalizeAbsolute(runtime)] : ["/run/user"];
}

/** Refuses what the sandbox cannot enforce in this version instead of silently ignoring it. */
function assertSupported(profile: EffectiveProfile): void {
  if (profile.seccomp_mode !== "off" || profile.landlock_mode !== "off") {
    throw sandboxError("seccomp_mode/landlock_mode other than 'off' are not supported in this version");
  }
  if (profile.network.mode === "proxy")
    throw sandboxError("network.mode 'proxy' is not supported in this version");
  if (!profile.no_new_privs) throw sandboxError("no_new_privs must stay true");
}

/**
 * The full bwrap argv (starting with the bwrap binary) that runs `command` under `profile`, in
 * the order of SANDBOX.md §4: later mounts shadow earlier ones. Throws `sandbox_error` rather
 * than return a partial argv; a disabled sandbox (single-user, or serve --insecure-no-sandbox)
 * returns the command unchanged.
 */
export function buildSandboxedCommand(options: SandboxCommandOptions): string[] {
  const { profile } = options;
  if (options.command.length === 0) throw sandboxError("no command to run in the sandbox");
  if (!profile.enabled) return [...options.command];
  assertSupported(profile);
  const bwrap = detectBwrap();

  const home = checkedAbsolute("home", options.home);
  const workspace = checkedAbsolute("workspace", options.workspace);
  if (kindOf(home) !== "dir") throw sandboxError(`home '${home}' is not a directory`);
  if (kindOf(workspace) !== "dir") throw sandboxError(`workspace '${workspace}' is not a directory`);
  const hiddenOver = profile.deny_read.find((denied) => isInside(workspace, denied));
  if (hiddenOver) throw sandboxError(`workspace '${workspace}' lies inside deny_read path '${hiddenOver}'`);

  const busDirs = userBusDirs();
  const denied = profile.deny_read.flatMap((path) => {
    const kind = kindOf(path);
    return kind ? [{ path, kind }] : [];
  });
  const args: string[] = [];

  const hide = ({ path, kind }: { path: string; kind: PathKind }) => {
    if (kind === "dir") args.push("--tmpfs", path);
    else args.push("--ro-bind", "/dev/null", path);
  };
  const bind = (flag: "--bind" | "--ro-bind", path: string) => {
    const exposed = busDirs.find((bus) => isInside(path, bus) || isInside(bus, path));
    if (exposed) throw sandboxError(`refusing to bind '${path}': it would expose '${exposed}'`);
    args.push(flag, path, path);
  };
  // Binds after the denies (steps 9–11) may re-expose a directory, never a deny_read path
  // strictly inside it: the more specific rule wins.
  const bindOverDenies = (flag: "--bind" | "--ro-bind", path: string) => {
    bind(flag, path);
    for (const entry of denied) if (entry.path !== path && isInside(entry.path, path)) hide(entry);
  };

  // 1. System dirs: the root is bwrap's own tmpfs, so later binds can create mount points.
  for (const dir of SYSTEM_DIRS) {
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push("--symlink", readlinkSync(dir), dir);
    else if (stat?.isDirectory()) args.push("--ro-bind", dir, dir);
  }
  if (kindOf(RESOLVED_DIR) === "dir") args.push("--ro-bind", RESOLVED_DIR, RESOLVED_DIR);

  // 2–3. /tmp before any bind so that a home or workspace under /tmp stays visible.
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");

  // 4. Home; under a read-only home the runner has created the allow_write targets beforehand.
  if (profile.home === "rw") {
    bind("--bind", home);
  } else {
    bind("--ro-bind", home);
    for (const path of profile.allow_write) {
      if (isInside(path, home) && kindOf(path)) bind("--bind", path);
    }
  }

  // 5. allow_write outside home; /tmp is already the sandbox's own tmpfs.
  for (const path of profile.allow_write) {
    if (!isInside(path, home) && path !== "/tmp" && kindOf(path)) bind("--bind", path);
  }

  // 6–7. The workspace is writable; its `.oqto` (sandbox override) never is.
  bind("--bind", workspace);
  args.push("--chdir", workspace);
  const oqtoDir = join(workspace, ".oqto");
  if (lstatSync(oqtoDir, { throwIfNoEntry: false })) bind("--ro-bind", oqtoDir);
  else args.push("--tmpfs", oqtoDir);

  // 8. Hide deny_read: directory → empty tmpfs, anything else → /dev/null.
  for (const entry of denied) hide(entry);

  // 9. deny_write and the active sandbox files read-only, except inside a hidden path: the
  // source of a bind is the host path, so binding it would re-expose what step 8 hid.
  for (const path of unique([...profile.deny_write, ...profile.protected_files])) {
    if (profile.deny_read.some((hidden) => isInside(path, hidden))) continue;
    if (kindOf(path)) bindOverDenies("--ro-bind", path);
  }

  // 10. Scoped paths: hide the base, expose only this workspace's target.
  const log = options.log ?? ((message: string) => console.warn(message));
  for (const rule of profile.scoped_paths) {
    const target = scopedPathTarget(rule, workspace);
    if (profile.deny_read.some((hidden) => isInside(target, hidden))) continue;
    const baseExists = kindOf(rule.base_path) === "dir";
    if (baseExists) args.push("--tmpfs", rule.base_path);
    if (baseExists && kindOf(target)) {
      bindOverDenies(rule.access === "rw" ? "--bind" : "--ro-bind", target);
    } else if (rule.missing === "fail") {
      throw sandboxError(`scoped path '${rule.name}': target '${target}' does not exist`);
    } else if (rule.missing === "warn") {
      log(`sandbox: scoped path '${rule.name}': target '${target}' does not exist; nothing exposed`);
    }
  }

  // 11. Extra binds come after the denies on purpose: the only way to re-expose a path inside a
  // denied directory (strict's ~/.config/oqto).
  for (const path of profile.extra_ro_bind) if (kindOf(path)) bindOverDenies("--ro-bind", path);
  for (const path of profile.extra_rw_bind) if (kindOf(path)) bindOverDenies("--bind", path);
  for (const raw of options.extraRoBinds ?? []) {
    const path = checkedAbsolute("extra read-only bind", raw);
    if (!kindOf(path)) throw sandboxError(`extra read-only bind '${path}' does not exist`);
    bindOverDenies("--ro-bind", path);
  }
  for (const raw of options.extraRwBinds ?? []) {
    const path = checkedAbsolute("extra read-write bind", raw);
    if (kindOf(path) !== "dir") throw sandboxError(`extra read-write bind '${path}' is not a directory`);
    bindOverDenies("--bind", path);
  }
  if (options.runtimeDir !== undefined) {
    const runtimeDir = checkedAbsolute("runtimeDir", options.runtimeDir);
    if (kindOf(runtimeDir) !== "dir") throw sandboxError(`runtime dir '${runtimeDir}' is not a directory`);
    bindOverDenies("--bind", runtimeDir);
  }
  for (const overlay of options.fileOverlays ?? []) {
    const source = checkedAbsolute("overlay source", overlay.source);
    const target = checkedAbsolute("overlay target", overlay.target);
    if (kindOf(source) !== "other") throw sandboxError(`overlay source '${source}' is not a file`);
    if (kindOf(target) !== "other") throw sandboxError(`overlay target '${target}' is not a file`);
    if (busDirs.some((bus) => isInside(target, bus))) throw sandboxError(`refusing to overlay '${target}'`);
    args.push("--ro-bind", source, target);
  }

  // 12. PATH; the user's session bus must not be reachable through the environment either.
  args.push("--setenv", "PATH", agentPath(home, options.inheritedPath));
  args.push("--unsetenv", "XDG_RUNTIME_DIR", "--unsetenv", "DBUS_SESSION_BUS_ADDRESS");

  // 13. Namespaces and privileges.
  args.push("--unshare-user");
  if (profile.isolate_pid) args.push("--unshare-pid");
  if (isNetworkIsolated(profile)) args.push("--unshare-net");
  if (profile.drop_all_caps) args.push("--cap-drop", "ALL");
  if (profile.disable_userns) args.push("--disable-userns");
  if (profile.assert_userns_disabled) args.push("--assert-userns-disabled");

  // 14. A new session stops TIOCSTI injection into the runner's terminal; shells need job control.
  if (options.kind === "agent") args.push("--new-session");
  args.push("--die-with-parent");

  // 15.
  return [bwrap.path, ...args, "--", ...options.command];
}
