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
 * The workspace profile's allow_write entries that the global profile lets processes write
 * anyway: listed there, or below a listed dir.
 */
function grantedWrites(global: SandboxPolicy, workspace: SandboxPolicy): string[] {
  // `/tmp` is the sandbox's own tmpfs (SANDBOX.md §4 step 3): granting it grants nothing on the host below it.
  const covers = (granted: string, path: string) =>
    granted === "/tmp" ? path === granted : isInside(path, granted);
  return workspace.allow_write.filter((path) => global.allow_write.some((granted) => covers(granted, path)));
}

/**
 * merge(global active profile, workspace-chosen profile), SANDBOX.md §3: every field moves only
 * towards the stricter side, so a workspace that selects a looser profile gets the global one.
 */
export function mergePolicies(global: SandboxPolicy, workspace: SandboxPolicy): SandboxPolicy {
  return {
    enabled: global.enabled || workspace.enabled,
    deny_read: unique([...global.deny_read, ...workspace.deny_read]),
    allow_write: grantedWrites(global, workspace),
    deny_write: unique([...global.deny_write, ...workspace.deny_write]),
    extra_ro_bind: intersect(global.extra_ro_bind, workspace.extra_ro_bind),
    extra_rw_bind: intersect(global.extra_rw_bind, workspace.extra_rw_bind),
    isolate_network: global.isolate_network || workspace.isolate_network,
    disable_userns: global.disable_userns || workspace.disable_userns,
    assert_userns_disabled: global.assert_userns_disabled || workspace.assert_userns_disabled,
    network: { mode: stricter(NETWORK_MODES, global.network.mode, workspace.network.mode) },
    scoped_paths: unionRules(global.scoped_paths, workspace.scoped_paths),
    seccomp_mode: stricter(ENFORCEMENT_MODES, global.seccomp_mode, workspace.seccomp_mode),
    landlock_mode: stricter(ENFORCEMENT_MODES, global.landlock_mode, workspace.landlock_mode),
  };
}
