import { ProtocolError } from "../../protocol/index.ts";
import { buildSandboxedCommand } from "./argv-builder.ts";
import { isNetworkIsolated } from "./effective-profile.ts";
import { prepareSandboxDirs } from "./prepare.ts";
import { resolveEffectiveProfile } from "./profile-loader.ts";

export interface SandboxWrapOptions {
  /** The global sandbox file (single-user: `$XDG_CONFIG_HOME/oqto/sandbox.toml`). */
  systemFile: string;
  home: string;
  multiUser: boolean;
  kind: "agent" | "terminal";
  /**
   * Oqto's own state (data dir: platform DB, JWT secret, runner socket; config dir) is hidden from
   * whatever runs in the sandbox, whatever the profile says: reading it would mean forging logins.
   */
  hiddenPaths: string[];
  extraRoBinds?: string[];
  extraRwBinds?: string[];
  /**
   * Agents reach the LLM over the network; a profile that isolates it needs the LLM bridge
   * (SANDBOX.md §5), which this version does not have: refuse rather than start an agent that
   * cannot work, and never start it unsandboxed.
   */
  needsNetwork?: boolean;
}

/**
 * Wraps a command in the workspace's effective sandbox profile, resolved afresh for every start
 * so that a tightened workspace file applies at once. Fails closed: any profile or bwrap
 * problem throws `sandbox_error` and nothing starts unsandboxed.
 */
export function sandboxWrapper(
  options: SandboxWrapOptions,
): (workspace: string, command: string[]) => string[] {
  return (workspace, command) => {
    const profile = resolveEffectiveProfile({
      systemFile: options.systemFile,
      workspacePath: workspace,
      home: options.home,
      multiUser: options.multiUser,
    });
    if (options.needsNetwork && profile.enabled && isNetworkIsolated(profile)) {
      throw new ProtocolError(
        "sandbox_error",
        `this workspace's sandbox isolates the network (profile ${profile.workspace_profile ?? profile.global_profile}); ` +
          "agents need the LLM bridge, which this version does not have yet. The terminal works; " +
          "choose a profile with network access for agent sessions.",
      );
    }
    const hardened = { ...profile, deny_read: [...new Set([...profile.deny_read, ...options.hiddenPaths])] };
    prepareSandboxDirs({ profile: hardened, home: options.home, workspace });
    return buildSandboxedCommand({
      profile: hardened,
      home: options.home,
      workspace,
      command,
      kind: options.kind,
      ...(options.extraRoBinds ? { extraRoBinds: options.extraRoBinds } : {}),
      ...(options.extraRwBinds ? { extraRwBinds: options.extraRwBinds } : {}),
    });
  };
}
