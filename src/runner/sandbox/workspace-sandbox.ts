import { ProtocolError } from "../../protocol/index.ts";
import type { EffectiveProfile } from "./effective-profile.ts";
import { resolveEffectiveProfile } from "./profile-loader.ts";
import { BUILTIN_PROFILE_NAMES } from "./profile-schema.ts";
import type { WorkspaceProfiles } from "./workspace-profiles.ts";

/** Built-ins from loosest to strictest: a workspace may move right, never left. */
const STRICTNESS: readonly string[] = BUILTIN_PROFILE_NAMES;

export interface WorkspaceSandboxOptions {
  systemFile: string;
  home: string;
  multiUser: boolean;
  /** Where each workspace's choice is kept (outside every workspace). */
  choices: WorkspaceProfiles;
}

export interface SandboxView {
  enabled: boolean;
  /** The profile in force: the workspace's choice, else the global one. */
  profile: string;
  /** Profiles a workspace may select (the global one and everything stricter). */
  profiles: string[];
  effective: EffectiveProfile;
}

/**
 * A workspace's sandbox as the owner sees and changes it (`sandbox.get|set`) and as every agent
 * and terminal in it runs. Callers pass the workspace directory itself (owningWorkspace), never
 * a subfolder: the choice belongs to the whole workspace.
 */
export class WorkspaceSandbox {
  constructor(private readonly options: WorkspaceSandboxOptions) {}

  /** The effective profile of `workspace`, resolved afresh (a tightened choice applies at once). */
  effective(workspace: string): EffectiveProfile {
    return resolveEffectiveProfile({
      systemFile: this.options.systemFile,
      workspaceProfile: this.options.choices.get(workspace),
      home: this.options.home,
      multiUser: this.options.multiUser,
    });
  }

  get(workspace: string): SandboxView {
    const effective = this.effective(workspace);
    const globalRank = STRICTNESS.indexOf(effective.global_profile);
    return {
      enabled: effective.enabled,
      profile: effective.workspace_profile ?? effective.global_profile,
      profiles: globalRank < 0 ? [effective.global_profile] : STRICTNESS.slice(globalRank),
      effective,
    };
  }

  /** The global file's effective profile (no workspace choice applied). Throws `sandbox_error`. */
  global(): EffectiveProfile {
    return resolveEffectiveProfile({
      systemFile: this.options.systemFile,
      home: this.options.home,
      multiUser: this.options.multiUser,
    });
  }

  set(workspace: string, profile: string): SandboxView {
    const current = this.get(workspace);
    if (!current.profiles.includes(profile)) {
      const why = STRICTNESS.includes(profile)
        ? `profile '${profile}' is looser than the system profile '${current.effective.global_profile}': a workspace may only tighten`
        : `unknown profile '${profile}' (choose one of: ${current.profiles.join(", ")})`;
      throw new ProtocolError("invalid_request", why);
    }
    this.options.choices.set(workspace, profile);
    return this.get(workspace);
  }
}
