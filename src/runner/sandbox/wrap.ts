import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LLM_TOKEN_ENV } from "../../protocol/llm.ts";
import type { MintedLlmToken } from "../llm/llm-tokens.ts";
import { MODELS_FILE, SETTINGS_FILE } from "../models-files.ts";
import { owningWorkspace } from "../workspace-dir.ts";
import { buildSandboxedCommand } from "./argv-builder.ts";
import { type EffectiveProfile, isNetworkIsolated } from "./effective-profile.ts";
import { LLM_BRIDGE_PORT, type LlmBridge, startLlmBridge } from "./llm-bridge.ts";
import { prepareSandboxDirs } from "./prepare.ts";
import type { WorkspaceSandbox } from "./workspace-sandbox.ts";

export interface SandboxWrapOptions {
  /** Resolves each workspace's effective profile (system file + the workspace's choice). */
  sandbox: WorkspaceSandbox;
  home: string;
  /** The user's workspace root: other workspaces are never visible inside a sandbox. */
  workspaceRoot: string;
  /**
   * Oqto's own state (data dir: platform DB, JWT secret, runner socket, sandbox policy; config
   * dir) is hidden from whatever runs in the sandbox, whatever the profile says.
   */
  hiddenPaths: string[];
  /** Host paths the command needs read-only (pi and its runtime when outside /usr). */
  extraRoBinds?: string[];
}

export interface AgentSandboxSetup {
  /** Where each agent's private dirs are made (inside the hidden data dir; 0700). */
  root: string;
  /** Oqto's pi config on the host (models.json, settings.json); never mounted, copied per agent. */
  piConfigDir: string;
  /** A fresh LLM token for the process about to start, registered with the gateway until released. */
  mintLlmToken: (sessionId: string) => MintedLlmToken;
  /**
   * The host dir, inside the hidden state, that holds this launch's pi session files and is its
   * only one bound read-write: an agent sees no other session's transcript.
   */
  sessionDirFor: (cwd: string, launch: AgentLaunchContext) => string;
  /** argv prefix of `oqto sandbox-shim` as it runs inside the sandbox. */
  shimCommand: string[];
  /** Host paths the shim command needs read-only (the oqto binary, or the source tree). */
  shimPaths: string[];
  /** Bun transpiler caches, one per workspace. */
  cacheRoot: string;
  log: (message: string) => void;
}

/** Which session a pi process is started for. */
export interface AgentLaunchContext {
  sessionId: string;
  /** The pi session file it resumes, if any. */
  resumeFile?: string;
}

/** Wraps one pi process of a session in its workspace's sandbox. */
export type AgentWrapper = (workspacePath: string, argv: string[], launch: AgentLaunchContext) => AgentLaunch;

/** A sandboxed agent command, the environment it adds, and what to release when it has exited. */
export interface AgentLaunch {
  argv: string[];
  env: Record<string, string>;
  /** The process now serves another session (a warm spare handed out). */
  rebind: (sessionId: string) => void;
  release: () => void;
}

/**
 * Bun's transpiler cache for one workspace's pi (~200 ms per start without one; the read-only
 * home leaves pi none), kept in the runner's state and bound into that workspace's sandboxes
 * only. Per workspace on purpose: a cache an agent can write is code its next pi runs, so it
 * must not be shared with the user's other workspaces, which may run under a looser profile.
 */
function workspaceCacheDir(root: string, workspace: string): string {
  const dir = join(root, createHash("sha256").update(workspace).digest("hex").slice(0, 16));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

interface Placement {
  /** The workspace root's real path. */
  root: string;
  workspace: string;
  profile: EffectiveProfile;
}

/**
 * The workspace `dir` belongs to and that workspace's effective profile, resolved afresh for
 * every start so that a tightened choice applies at once. Throws `sandbox_error`.
 */
function place(options: SandboxWrapOptions, dir: string): Placement {
  const root = realpathSync(options.workspaceRoot);
  const workspace = owningWorkspace(root, dir);
  const profile = options.sandbox.effective(workspace);
  prepareSandboxDirs({ profile, home: options.home, workspace });
  return { root, workspace, profile };
}

function commonOptions(options: SandboxWrapOptions, placement: Placement, cwd: string) {
  return {
    profile: placement.profile,
    home: options.home,
    workspace: placement.workspace,
    cwd,
    workspaceRoot: placement.root,
    hiddenPaths: options.hiddenPaths,
  };
}

/**
 * Wraps a terminal shell in its workspace's sandbox. Fails closed: any profile or bwrap problem
 * throws `sandbox_error` and nothing starts unsandboxed.
 */
export function terminalSandbox(options: SandboxWrapOptions): (dir: string, command: string[]) => string[] {
  return (dir, command) =>
    buildSandboxedCommand({
      ...commonOptions(options, place(options, dir), dir),
      command,
      kind: "terminal",
      ...(options.extraRoBinds ? { extraRoBinds: options.extraRoBinds } : {}),
    });
}

/**
 * Wraps a pi process in its workspace's sandbox. The agent never sees a provider key nor Oqto's shared pi
 * config: it gets its own pi agent dir with a read-only models.json whose providers point at the
 * gateway and whose key is the name of the variable holding this process's own LLM token. Under a
 * network-isolated profile `oqto sandbox-shim` inside relays the sandbox's loopback port to a
 * per-agent LLM bridge (SANDBOX.md §5) that carries the same token to the same gateway. Fails closed.
 */
export function agentSandbox(options: SandboxWrapOptions & { agent: AgentSandboxSetup }): AgentWrapper {
  return (dir, command, launch) => {
    const { agent } = options;
    const llmToken = agent.mintLlmToken(launch.sessionId);
    const tokenEnv = { [LLM_TOKEN_ENV]: llmToken.token };
    let placement: Placement;
    try {
      placement = place(options, dir);
    } catch (error) {
      llmToken.release();
      throw error;
    }
    if (!placement.profile.enabled)
      return { argv: [...command], env: tokenEnv, rebind: llmToken.rebind, release: llmToken.release };
    const isolated = isNetworkIsolated(placement.profile);
    mkdirSync(agent.root, { recursive: true, mode: 0o700 });
    const private_ = mkdtempSync(join(agent.root, "a-"));
    let bridge: LlmBridge | undefined;
    const release = () => {
      bridge?.stop();
      rmSync(private_, { recursive: true, force: true });
      llmToken.release();
    };
    try {
      const hostModels = join(agent.piConfigDir, MODELS_FILE);
      if (isolated) bridge = startLlmBridge({ root: private_, modelsFile: hostModels, log: agent.log });
      const piDir = join(private_, "pi");
      mkdirSync(piDir, { mode: 0o700 });
      // The config files are bound read-only into this private dir, which stays writable: pi
      // takes a lock dir next to settings.json even to read it, and keeps runtime files here.
      const config: string[] = [];
      const models = bridge ? bridge.modelsFile : existsSync(hostModels) ? hostModels : undefined;
      if (models) {
        copyFileSync(models, join(piDir, MODELS_FILE));
        config.push(join(piDir, MODELS_FILE));
      }
      const settings = join(agent.piConfigDir, SETTINGS_FILE);
      if (existsSync(settings)) {
        copyFileSync(settings, join(piDir, SETTINGS_FILE));
        config.push(join(piDir, SETTINGS_FILE));
      }
      const cache = workspaceCacheDir(agent.cacheRoot, placement.workspace);
      const sessionDir = agent.sessionDirFor(dir, launch);
      mkdirSync(sessionDir, { recursive: true, mode: 0o700 });
      const env: Record<string, string> = {
        ...tokenEnv,
        BUN_RUNTIME_TRANSPILER_CACHE_PATH: cache,
        PI_CODING_AGENT_DIR: piDir,
        PI_CODING_AGENT_SESSION_DIR: sessionDir,
      };
      const rw = [piDir, cache, sessionDir, ...(bridge ? [bridge.dir] : [])];
      const argv = buildSandboxedCommand({
        ...commonOptions(options, placement, dir),
        kind: "agent",
        command: bridge
          ? [
              ...agent.shimCommand,
              "--forward",
              `127.0.0.1:${LLM_BRIDGE_PORT}=${bridge.socketPath}`,
              "--",
              ...command,
            ]
          : command,
        runnerBinds: { ro: config, rw },
        extraRoBinds: [...(options.extraRoBinds ?? []), ...(isolated ? agent.shimPaths : [])],
      });
      return { argv, env, rebind: llmToken.rebind, release };
    } catch (error) {
      release();
      throw error;
    }
  };
}
