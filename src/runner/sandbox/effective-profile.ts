import type { EnforcementMode, NetworkMode, ScopedPathRule } from "./profile-schema.ts";

/**
 * A profile with every path expanded for the target user and normalized, plus the file-level
 * `enabled` flag: the unit the merge works on. Field names mirror the sandbox file so that
 * errors and the REST view name the same keys a user writes. What no profile may change (a
 * read-only home, no capabilities, an own pid namespace, no_new_privs) is not a field at all.
 */
export interface SandboxPolicy {
  enabled: boolean;
  deny_read: string[];
  allow_write: string[];
  deny_write: string[];
  extra_ro_bind: string[];
  extra_rw_bind: string[];
  isolate_network: boolean;
  disable_userns: boolean;
  assert_userns_disabled: boolean;
  network: { mode: NetworkMode };
  /** `base_path` expanded; the target is computed per workspace when the argv is built. */
  scoped_paths: ScopedPathRule[];
  seccomp_mode: EnforcementMode;
  landlock_mode: EnforcementMode;
}

/** What a workspace's agents and terminals run under: merge(global active, workspace's choice). */
export interface EffectiveProfile extends SandboxPolicy {
  /** Active profile of the system sandbox file. */
  global_profile: string;
  /** The profile the workspace's owner chose through the API, or null (then the global one applies). */
  workspace_profile: string | null;
  /** The system sandbox file in force. */
  system_file: string;
}

/** `isolate_network` is shorthand for `network.mode = "isolated"`. */
export function isNetworkIsolated(policy: SandboxPolicy): boolean {
  return policy.isolate_network || policy.network.mode === "isolated";
}
