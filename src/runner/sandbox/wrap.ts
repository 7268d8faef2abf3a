import type { WrapCommand } from "../terminal/terminal-manager.ts";
import { buildSandboxedCommand } from "./argv-builder.ts";
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
}

/**
 * Wraps a command in the workspace's effective sandbox profile, resolved afresh for every start
 * so that a tightened workspace file applies at once. Fails closed: any profile or bwrap
 * problem throws `sandbox_error` and nothing starts unsandboxed.
 */
export function sandboxWrapper(options: SandboxWrapOptions): WrapCommand {
  return (workspace, command) => {
    const profile = resolveEffectiveProfile({
      systemFile: options.systemFile,
      workspacePath: workspace,
      home: options.home,
      multiUser: options.multiUser,
    });
    const hardened = { ...profile, deny_read: [...new Set([...profile.deny_read, ...options.hiddenPaths])] };
    prepareSandboxDirs({ profile: hardened, home: options.home, workspace });
    return buildSandboxedCommand({
      profile: hardened,
      home: options.home,
      workspace,
      command,
      kind: options.kind,
    });
  };
}
