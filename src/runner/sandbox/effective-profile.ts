import type { EnforcementMode, NetworkMode, ScopedPathRule } from "./profile-schema.ts";

/**
 * A profile with every path expanded for the target user and normalized, plus the file-level
 * `enabled` flag: the unit the merge works on. Field names mirror the sandbox file so that
 * errors and the REST view name the same keys a user writes.
 */
export interface SandboxPolicy {
  enabled: boolean;
  home: "rw" | "ro";
  deny_read: string[];
  allow_write: string[];
  deny_write: string[];
  extra_ro_bind: string[];
  extra_rw_bind: string[];
  isolate_pid: boolean;
  isolate_network: boolean;
  drop_all_caps: boolean;
  disable_userns: boolean;
  assert_userns_disabled: boolean;
  no_new_privs: boolean;
  network: { mode: NetworkMode };
  /** `base_path` expanded; the target is computed per workspace when the argv is built. */
  scoped_paths: ScopedPathRule[];
  seccomp_mode: EnforcementMode;
  landlock_mode: EnforcementMode;
}

/** What a workspace's agents and terminals run under: merge(global active, workspace-named). */
export interface EffectiveProfile extends SandboxPolicy {
  /** Active profile of the global file. */
  global_profile: string;
  /** Profile the workspace file names, or null when it names none (or has no file). */
  workspace_profile: string | null;
  /** The sandbox files in force; they are bound read-only inside the sandbox (§4 step 9). */
  protected_files: string[];
}

/** `isolate_network` is shorthand for `network.mode = "isolated"`. */
export function isNetworkIsolated(policy: SandboxPolicy): boolean {
  return policy.isolate_network || policy.network.mode === "isolated";
}
