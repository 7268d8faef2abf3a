import { join } from "node:path";
import type { Config } from "../../../config/schema.ts";
import type { ResolvedPi } from "../../pi-install.ts";
import { leanRpcArgv } from "./lean-rpc.ts";

export interface PiSpawnOptions {
  pi: ResolvedPi;
  config: Config;
  /** Workspace directory pi runs in. */
  cwd: string;
  home: string;
  agentDir: string;
  /** Oqto session id, exported as OQTO_SESSION_ID for extensions. */
  sessionId: string;
  /** pi session file to resume; omitted for a new pi session. */
  sessionFile?: string;
  provider?: string;
  model?: string;
}

export interface PiSpawnSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

const SYSTEM_PATH_DIRS = ["/usr/local/bin", "/usr/bin", "/bin"];
const USER_TOOL_DIRS = [".cargo/bin", "go/bin", ".local/bin", ".bun/bin", ".npm-global/bin"];

/** The runner's PATH plus the system dirs and the user's tool dirs it lacks (SANDBOX.md §4 step 12). */
export function agentPath(home: string, inherited = process.env.PATH ?? ""): string {
  const dirs = inherited.split(":").filter((d) => d.length > 0);
  for (const dir of [...SYSTEM_PATH_DIRS, ...USER_TOOL_DIRS.map((d) => join(home, d))]) {
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  return dirs.join(":");
}

/**
 * argv, env and cwd for one pi RPC process (PI-RPC.md §2). The env is built from scratch so that
 * nothing of the runner's environment (API keys, tokens) leaks into the agent.
 */
export function buildPiSpawn(options: PiSpawnOptions): PiSpawnSpec {
  const { pi, config } = options;
  const args = ["--mode", "rpc"];
  if (options.provider) args.push("--provider", options.provider);
  if (options.model) args.push("--model", options.model);
  if (options.sessionFile) args.push("--session", options.sessionFile);
  args.push("--offline", ...config.pi.extra_args);
  const argv = leanRpcArgv(pi.runtime, pi.cli, args);

  const env: Record<string, string> = {
    HOME: options.home,
    PATH: agentPath(options.home),
    PI_CODING_AGENT_DIR: options.agentDir,
    PI_OFFLINE: "1",
    TERM: "dumb",
    OQTO_SESSION_ID: options.sessionId,
    ...pi.env,
  };
  if (config.pi.session_dir) env.PI_CODING_AGENT_SESSION_DIR = config.pi.session_dir;
  return { argv, env, cwd: options.cwd };
}
