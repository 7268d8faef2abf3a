import type { SandboxPolicy } from "./effective-profile.ts";
import { isInside, unique } from "./paths.ts";
import { ENFORCEMENT_MODES, NETWORK_MODES, type ScopedPathRule } from "./profile-schema.ts";

/** Of two values on a loosest-first scale, the stricter one. */
function stricter<T>(order: readonly T[], a: T, b: T): T {
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}

/** Entries of `base` that `other` also has: a workspace can drop access, never add it. */
function intersect(base: string[], other: string[]): string[] {
  return base.filter((entry) => other.includes(entry));
}

function unionRules(a: ScopedPathRule[], b: ScopedPathRule[]): ScopedPathRule[] {
  const seen = new Set<string>();
  return [...a, ...b].filter((rule) => {
    const key = JSON.stringify(rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The workspace's allow_write entries that the global profile lets processes write anyway: listed
 * there (or below a listed dir), or below a home the global profile mounts read-write. A plain
 * intersection would take `~/.pi` away from a strict workspace under a global `minimal` (whose
 * home is writable, so it lists nothing below it) and leave it stricter than `strict` itself.
 */
function grantedWrites(global: SandboxPolicy, workspace: SandboxPolicy, home: string): string[] {
  // `/tmp` is the sandbox's own tmpfs (SANDBOX.md §4 step 3): granting it grants nothing on the host below it.
  const covers = (granted: string, path: string) =>
    granted === "/tmp" ? path === granted : isInside(path, granted);
  return workspace.allow_write.filter(
    (path) =>
      global.allow_write.some((granted) => covers(granted, path)) ||
      (global.home === "rw" && isInside(path, home)),
  );
}

/**
 * merge(global active profile, workspace-named profile), SANDBOX.md §3: every field moves only
 * towards the stricter side, so a workspace that selects a looser profile gets the global one.
 * `home` is the target user's home (profile paths arrive expanded against it).
 */
export function mergePolicies(global: SandboxPolicy, workspace: SandboxPolicy, home: string): SandboxPolicy {
  return {
    enabled: global.enabled || workspace.enabled,
    home: global.home === "ro" || workspace.home === "ro" ? "ro" : "rw",
    deny_read: unique([...global.deny_read, ...workspace.deny_read]),
    allow_write: grantedWrites(global, workspace, home),
    deny_write: unique([...global.deny_write, ...workspace.deny_write]),
    extra_ro_bind: intersect(global.extra_ro_bind, workspace.extra_ro_bind),
    extra_rw_bind: intersect(global.extra_rw_bind, workspace.extra_rw_bind),
    isolate_pid: global.isolate_pid || workspace.isolate_pid,
    isolate_network: global.isolate_network || workspace.isolate_network,
    drop_all_caps: global.drop_all_caps || workspace.drop_all_caps,
    disable_userns: global.disable_userns || workspace.disable_userns,
    assert_userns_disabled: global.assert_userns_disabled || workspace.assert_userns_disabled,
    no_new_privs: global.no_new_privs || workspace.no_new_privs,
    network: { mode: stricter(NETWORK_MODES, global.network.mode, workspace.network.mode) },
    scoped_paths: unionRules(global.scoped_paths, workspace.scoped_paths),
    seccomp_mode: stricter(ENFORCEMENT_MODES, global.seccomp_mode, workspace.seccomp_mode),
    landlock_mode: stricter(ENFORCEMENT_MODES, global.landlock_mode, workspace.landlock_mode),
  };
}

/** Keys a workspace may only tighten, as written in a sandbox file (union fields can never loosen). */
export const TIGHTEN_ONLY_KEYS = [
  "enabled",
  "home",
  "allow_write",
  "extra_ro_bind",
  "extra_rw_bind",
  "isolate_pid",
  "isolate_network",
  "drop_all_caps",
  "disable_userns",
  "assert_userns_disabled",
  "no_new_privs",
  "network.mode",
  "seccomp_mode",
  "landlock_mode",
] as const;
export type TightenOnlyKey = (typeof TIGHTEN_ONLY_KEYS)[number];

export interface Loosening {
  key: TightenOnlyKey;
  why: string;
}

function fieldValue(policy: SandboxPolicy, key: TightenOnlyKey): string | boolean | string[] {
  return key === "network.mode" ? policy.network.mode : policy[key];
}

/**
 * The values a workspace wrote explicitly that the merge had to overrule: each is an attempt to
 * loosen the global profile. Selecting a looser profile by name is not an attempt (the merge
 * quietly keeps the global values); writing `home = "rw"` under a global `ro` is.
 */
export function findLoosenings(
  workspace: SandboxPolicy,
  merged: SandboxPolicy,
  explicitKeys: ReadonlySet<string>,
): Loosening[] {
  const loosenings: Loosening[] = [];
  for (const key of TIGHTEN_ONLY_KEYS) {
    if (!explicitKeys.has(key)) continue;
    const wanted = fieldValue(workspace, key);
    const granted = fieldValue(merged, key);
    if (Array.isArray(wanted) && Array.isArray(granted)) {
      const refused = wanted.filter((entry) => !granted.includes(entry));
      if (refused.length > 0) {
        loosenings.push({
          key,
          why: `${refused.map((entry) => `'${entry}'`).join(", ")} not granted by the global profile (a workspace may only tighten)`,
        });
      }
    } else if (wanted !== granted) {
      loosenings.push({
        key,
        why: `'${String(wanted)}' is looser than the global '${String(granted)}' (a workspace may only tighten)`,
      });
    }
  }
  return loosenings;
}
