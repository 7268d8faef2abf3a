import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
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

/**
 * Below the home, what runs code outside the sandbox (at the user's next login or session start):
 * never writable from any profile, whatever its allow_write says.
 */
export const LOGIN_PATHS = [
  ".bashrc",
  ".bash_profile",
  ".bash_login",
  ".bash_logout",
  ".profile",
  ".zshrc",
  ".zprofile",
  ".zshenv",
  ".zlogin",
  ".config/autostart",
  ".config/systemd",
  ".config/environment.d",
  ".ssh",
];

export interface SandboxCommandOptions {
  profile: EffectiveProfile;
  /** The target user's home. */
  home: string;
  /** The workspace directory (bound read-write); the command runs in `cwd` inside it. */
  workspace: string;
  /** Where the command starts; inside `workspace` (default: the workspace itself). */
  cwd?: string;
  /**
   * The directory holding all of the user's workspaces: an empty tmpfs inside, so that the
   * agent sees its own workspace and no other.
   */
  workspaceRoot?: string;
  /**
   * Oqto's own state (data dir, config dir): hidden whatever the profile says, and no writable
   * bind may contain it, so that no rename of a parent can uncover or replace it.
   */
  hiddenPaths?: string[];
  /**
   * Runner-made paths inside the hidden state the command needs (its pi config, bridge, caches).
   * `rw` is bound first, so a read-only file may sit inside a writable dir (pi locks its settings
   * file by making a lock dir next to it, but must not change it).
   */
  runnerBinds?: { ro?: string[]; rw?: string[] };
  /** What runs inside: pi's runtime + cli, the bridge shim, or a shell. */
  command: string[];
  /** Terminals get no `--new-session`: it breaks job control in interactive shells. */
  kind: "agent" | "terminal";
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
}

/**
 * Where a path really leads: the symlinks of its longest existing prefix resolved, the missing
 * rest appended (bwrap follows the same links when it makes or mounts on it).
 */
function resolvedPath(path: string): string {
  const rest: string[] = [];
  let prefix = path;
  for (;;) {
    try {
      return join(realpathSync(prefix), ...rest.reverse());
    } catch {
      if (prefix === "/") return path;
      rest.push(basename(prefix));
      prefix = dirname(prefix);
    }
  }
}

/** A path and, when a symlink somewhere on it leads elsewhere, where it really leads: both count. */
function withRealPath(path: string): string[] {
  const real = resolvedPath(path);
  return real === path ? [path] : [path, real];
}

/**
 * Fails when a writable bind would contain, or lie inside, something that must never be
 * writable: a writable parent would let the agent rename it away and put its own in its place.
 */
function assertNothingProtectedWritable(
  writable: ReadonlyArray<{ path: string; what: string }>,
  protectedPaths: readonly string[],
): void {
  for (const { path, what } of writable) {
    for (const guarded of protectedPaths) {
      if (isInside(guarded, path) || isInside(path, guarded)) {
        throw sandboxError(`${what} '${path}' would make '${guarded}' writable inside the sandbox`);
      }
    }
  }
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
  const cwd = checkedAbsolute("cwd", options.cwd ?? workspace);
  if (kindOf(home) !== "dir") throw sandboxError(`home '${home}' is not a directory`);
  if (kindOf(workspace) !== "dir") throw sandboxError(`workspace '${workspace}' is not a directory`);
  if (!isInside(cwd, workspace)) throw sandboxError(`cwd '${cwd}' is not inside workspace '${workspace}'`);
  const hiddenPaths = (options.hiddenPaths ?? []).map((path) => checkedAbsolute("hidden path", path));
  const deniedPaths = unique([...profile.deny_read, ...hiddenPaths]);
  const hiddenOver = deniedPaths.find((denied) => isInside(workspace, denied));
  if (hiddenOver) throw sandboxError(`workspace '${workspace}' lies inside hidden path '${hiddenOver}'`);
  const workspaceRoot =
    options.workspaceRoot === undefined ? undefined : checkedAbsolute("workspaceRoot", options.workspaceRoot);
  if (workspaceRoot !== undefined && (workspace === workspaceRoot || !isInside(workspace, workspaceRoot))) {
    throw sandboxError(`workspace '${workspace}' is not inside the workspace root '${workspaceRoot}'`);
  }

  // `/tmp` is the sandbox's own tmpfs, never the host's: granting it binds nothing.
  const hostWrites = profile.allow_write.filter((path) => path !== "/tmp" && kindOf(path));
  const configuredRw = (options.extraRwBinds ?? []).map((raw) =>
    checkedAbsolute("extra read-write bind", raw),
  );
  // Each writable bind counts as written and as where its symlinks lead: bwrap mounts on the latter.
  const writable = [
    ...hostWrites.map((path) => ({ path, what: "allow_write" })),
    ...profile.extra_rw_bind.filter((path) => kindOf(path)).map((path) => ({ path, what: "extra_rw_bind" })),
    ...configuredRw.map((path) => ({ path, what: "read-write bind" })),
    { path: workspace, what: "workspace" },
  ].flatMap(({ path, what }) =>
    withRealPath(path).map((variant) => ({
      path: variant,
      what: variant === path ? what : `${what} '${path}', through a symlink,`,
    })),
  );
  const homeBind = writable.find(({ path }) => isInside(home, path));
  if (homeBind) throw sandboxError(`${homeBind.what} '${homeBind.path}' would make the whole home writable`);
  assertNothingProtectedWritable(writable, [
    ...LOGIN_PATHS.flatMap((path) => withRealPath(join(home, path))),
    ...hiddenPaths.flatMap(withRealPath),
  ]);
  const rootBind = writable.find(
    ({ path }) => path !== workspace && workspaceRoot !== undefined && isInside(workspaceRoot, path),
  );
  if (rootBind) {
    throw sandboxError(`${rootBind.what} '${rootBind.path}' would make the workspace root writable`);
  }

  const busDirs = userBusDirs();
  const denied = deniedPaths.flatMap((path) => {
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

  // 4. The home, always read-only; the runner has created the allow_write targets beforehand.
  bind("--ro-bind", home);
  for (const path of hostWrites) if (isInside(path, home)) bind("--bind", path);

  // 5. allow_write outside home.
  for (const path of hostWrites) if (!isInside(path, home)) bind("--bind", path);

  // 6–7. No other workspace exists in here; this one is writable, its `.oqto` (Oqto's metadata) is not.
  if (workspaceRoot !== undefined && kindOf(workspaceRoot) === "dir") args.push("--tmpfs", workspaceRoot);
  bind("--bind", workspace);
  args.push("--chdir", cwd);
  const oqtoDir = join(workspace, ".oqto");
  if (lstatSync(oqtoDir, { throwIfNoEntry: false })) bind("--ro-bind", oqtoDir);
  else args.push("--tmpfs", oqtoDir);

  // 8. Hide deny_read and Oqto's state: directory → empty tmpfs, anything else → /dev/null.
  for (const entry of denied) hide(entry);

  // 9. deny_write read-only, except inside a hidden path: the source of a bind is the host
  // path, so binding it would re-expose what step 8 hid.
  for (const path of profile.deny_write) {
    if (deniedPaths.some((hidden) => isInside(path, hidden))) continue;
    if (kindOf(path)) bindOverDenies("--ro-bind", path);
  }

  // 10. Scoped paths: hide the base, expose only this workspace's target.
  const log = options.log ?? ((message: string) => console.warn(message));
  for (const rule of profile.scoped_paths) {
    const target = scopedPathTarget(rule, workspace);
    if (deniedPaths.some((hidden) => isInside(target, hidden))) continue;
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
  // denied directory (the runner's own dirs inside its hidden state).
  for (const path of profile.extra_ro_bind) if (kindOf(path)) bindOverDenies("--ro-bind", path);
  for (const path of profile.extra_rw_bind) if (kindOf(path)) bindOverDenies("--bind", path);
  for (const raw of options.extraRoBinds ?? []) {
    const path = checkedAbsolute("extra read-only bind", raw);
    if (!kindOf(path)) throw sandboxError(`extra read-only bind '${path}' does not exist`);
    bindOverDenies("--ro-bind", path);
  }
  for (const path of configuredRw) {
    if (kindOf(path) !== "dir") throw sandboxError(`extra read-write bind '${path}' is not a directory`);
    bindOverDenies("--bind", path);
  }
  for (const [flag, paths] of [
    ["--bind", options.runnerBinds?.rw ?? []],
    ["--ro-bind", options.runnerBinds?.ro ?? []],
  ] as const) {
    for (const raw of paths) {
      const path = checkedAbsolute("runner bind", raw);
      if (!hiddenPaths.some((hidden) => isInside(path, hidden)) || kindOf(path) === null) {
        throw sandboxError(`runner bind '${path}' must be an existing path inside Oqto's hidden state`);
      }
      bindOverDenies(flag, path);
    }
  }

  // 12. PATH; the user's session bus must not be reachable through the environment either.
  args.push("--setenv", "PATH", agentPath(home, options.inheritedPath));
  args.push("--unsetenv", "XDG_RUNTIME_DIR", "--unsetenv", "DBUS_SESSION_BUS_ADDRESS");

  // 13. Namespaces and privileges: no capabilities and an own pid namespace in every profile.
  args.push("--unshare-user", "--unshare-pid", "--cap-drop", "ALL");
  if (isNetworkIsolated(profile)) args.push("--unshare-net");
  if (profile.disable_userns) args.push("--disable-userns");
  if (profile.assert_userns_disabled) args.push("--assert-userns-disabled");

  // 14. A new session stops TIOCSTI injection into the runner's terminal; shells need job control.
  if (options.kind === "agent") args.push("--new-session");
  args.push("--die-with-parent");

  // 15.
  return [bwrap.path, ...args, "--", ...options.command];
}
