import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MODELS_FILE } from "../models-files.ts";
import { buildSandboxedCommand } from "./argv-builder.ts";
import { type EffectiveProfile, isNetworkIsolated } from "./effective-profile.ts";
import { LLM_BRIDGE_PORT, startLlmBridge } from "./llm-bridge.ts";
import { prepareSandboxDirs } from "./prepare.ts";
import { resolveEffectiveProfile } from "./profile-loader.ts";

export interface SandboxWrapOptions {
  /** The global sandbox file (single-user: `$XDG_CONFIG_HOME/oqto/sandbox.toml`). */
  systemFile: string;
  home: string;
  multiUser: boolean;
  /**
   * Oqto's own state (data dir: platform DB, JWT secret, runner socket; config dir) is hidden from
   * whatever runs in the sandbox, whatever the profile says: reading it would mean forging logins.
   */
  hiddenPaths: string[];
  extraRoBinds?: string[];
  extraRwBinds?: string[];
}

export interface LlmBridgeSetup {
  /** Where each agent's bridge dir is created (inside Oqto's hidden data dir; 0700). */
  root: string;
  /** pi's agent dir on the host: its models.json is what the bridge forwards to. */
  agentDir: string;
  /** argv prefix of `oqto sandbox-shim` as it runs inside the sandbox. */
  shimCommand: string[];
  /** Host paths the shim command needs read-only (the oqto binary, or the source tree). */
  shimPaths: string[];
  log: (message: string) => void;
}

/** A sandboxed agent command, the environment it adds, and what to release when it has exited. */
export interface AgentLaunch {
  argv: string[];
  env: Record<string, string>;
  release: () => void;
}

/**
 * Bun's transpiler cache for one workspace's pi (~200 ms per start without one; strict's read-only
 * home leaves pi none), kept in the runner's state and bound into that workspace's sandboxes only.
 * Per workspace on purpose: a cache an agent can write is code its next pi runs, so it must
 * not be shared with the user's other workspaces, which may run under a looser profile.
 */
function workspaceCacheDir(root: string, workspace: string): string {
  const dir = join(root, createHash("sha256").update(workspace).digest("hex").slice(0, 16));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The workspace's effective profile, resolved afresh for every start so that a tightened
 * workspace file applies at once, with Oqto's own state hidden. Throws `sandbox_error`.
 */
function hardenedProfile(options: SandboxWrapOptions, workspace: string): EffectiveProfile {
  const profile = resolveEffectiveProfile({
    systemFile: options.systemFile,
    workspacePath: workspace,
    home: options.home,
    multiUser: options.multiUser,
  });
  const hardened = { ...profile, deny_read: [...new Set([...profile.deny_read, ...options.hiddenPaths])] };
  prepareSandboxDirs({ profile: hardened, home: options.home, workspace });
  return hardened;
}

function extraBinds(options: SandboxWrapOptions, moreRo: string[] = []) {
  const ro = [...(options.extraRoBinds ?? []), ...moreRo];
  return {
    ...(ro.length > 0 ? { extraRoBinds: ro } : {}),
    ...(options.extraRwBinds ? { extraRwBinds: options.extraRwBinds } : {}),
  };
}

/**
 * Wraps a terminal shell in the workspace's sandbox. Fails closed: any profile or bwrap problem
 * throws `sandbox_error` and nothing starts unsandboxed.
 */
export function terminalSandbox(
  options: SandboxWrapOptions,
): (workspace: string, command: string[]) => string[] {
  return (workspace, command) =>
    buildSandboxedCommand({
      profile: hardenedProfile(options, workspace),
      home: options.home,
      workspace,
      command,
      kind: "terminal",
      ...extraBinds(options),
    });
}

/**
 * Wraps a pi process in the workspace's sandbox. Under a network-isolated profile the agent's one
 * way out is its own LLM bridge (SANDBOX.md §5): `oqto sandbox-shim` inside relays the sandbox's
 * loopback port to the bridge socket, and pi reads a models.json whose base URLs point there and
 * whose keys are placeholders. Fails closed like the terminal.
 */
export function agentSandbox(
  options: SandboxWrapOptions & { bridge: LlmBridgeSetup; cacheRoot: string },
): (workspace: string, command: string[]) => AgentLaunch {
  return (workspace, command) => {
    const profile = hardenedProfile(options, workspace);
    if (!profile.enabled) return { argv: [...command], env: {}, release: () => {} };
    const cache = workspaceCacheDir(options.cacheRoot, workspace);
    const env = { BUN_RUNTIME_TRANSPILER_CACHE_PATH: cache };
    const withCache = { ...options, extraRwBinds: [...(options.extraRwBinds ?? []), cache] };
    const base = { profile, home: options.home, workspace, kind: "agent" as const };
    if (!isNetworkIsolated(profile)) {
      return {
        argv: buildSandboxedCommand({ ...base, command, ...extraBinds(withCache) }),
        env,
        release: () => {},
      };
    }
    const { bridge: setup } = options;
    const bridge = startLlmBridge({
      root: setup.root,
      modelsFile: join(setup.agentDir, MODELS_FILE),
      log: setup.log,
    });
    try {
      const argv = buildSandboxedCommand({
        ...base,
        command: [
          ...setup.shimCommand,
          "--forward",
          `127.0.0.1:${LLM_BRIDGE_PORT}=${bridge.socketPath}`,
          "--",
          ...command,
        ],
        runtimeDir: bridge.dir,
        ...(bridge.modelsFile
          ? { fileOverlays: [{ source: bridge.modelsFile, target: join(setup.agentDir, MODELS_FILE) }] }
          : {}),
        ...extraBinds(withCache, setup.shimPaths),
      });
      return { argv, env, release: bridge.stop };
    } catch (error) {
      bridge.stop();
      throw error;
    }
  };
}
