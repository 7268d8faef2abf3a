import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ProtocolError } from "../../protocol/index.ts";
import type { EffectiveProfile } from "./effective-profile.ts";
import { resolveEffectiveProfile, WORKSPACE_SANDBOX_FILE } from "./profile-loader.ts";
import { BUILTIN_PROFILE_NAMES } from "./profile-schema.ts";

/** Built-ins from loosest to strictest: a workspace may move right, never left. */
const STRICTNESS: readonly string[] = BUILTIN_PROFILE_NAMES;

export interface WorkspaceSandboxOptions {
  systemFile: string;
  home: string;
  multiUser: boolean;
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
 * A workspace's sandbox as the owner sees and changes it (`sandbox.get|set`). The runner writes
 * `.oqto/sandbox.toml` itself, outside any sandbox, and only ever to select a profile at least as
 * strict as the global one.
 */
export class WorkspaceSandbox {
  constructor(private readonly options: WorkspaceSandboxOptions) {}

  get(workspacePath: string): SandboxView {
    const effective = this.resolve(workspacePath);
    const globalRank = STRICTNESS.indexOf(effective.global_profile);
    return {
      enabled: effective.enabled,
      profile: effective.workspace_profile ?? effective.global_profile,
      profiles: globalRank < 0 ? [effective.global_profile] : STRICTNESS.slice(globalRank),
      effective,
    };
  }

  /** The global file's effective profile (no workspace file applied). Throws `sandbox_error`. */
  global(): EffectiveProfile {
    return resolveEffectiveProfile({
      systemFile: this.options.systemFile,
      home: this.options.home,
      multiUser: this.options.multiUser,
    });
  }

  set(workspacePath: string, profile: string): SandboxView {
    const current = this.get(workspacePath);
    if (!current.profiles.includes(profile)) {
      const why = STRICTNESS.includes(profile)
        ? `profile '${profile}' is looser than the system profile '${current.effective.global_profile}': a workspace may only tighten`
        : `unknown profile '${profile}' (choose one of: ${current.profiles.join(", ")})`;
      throw new ProtocolError("invalid_request", why);
    }
    const file = join(workspacePath, WORKSPACE_SANDBOX_FILE);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(
      temp,
      `# Written by Oqto. A workspace's sandbox may only be stricter than the system's.\nprofile = ${JSON.stringify(profile)}\n`,
      { mode: 0o644 },
    );
    renameSync(temp, file);
    return this.get(workspacePath);
  }

  private resolve(workspacePath: string): EffectiveProfile {
    return resolveEffectiveProfile({
      systemFile: this.options.systemFile,
      workspacePath,
      home: this.options.home,
      multiUser: this.options.multiUser,
    });
  }
}
