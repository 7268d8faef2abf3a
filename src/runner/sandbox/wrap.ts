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
    prepareSandboxDirs({ profile, home: options.home, workspace });
    return buildSandboxedCommand({ profile, home: options.home, workspace, command, kind: options.kind });
  };
}
