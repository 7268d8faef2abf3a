import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { dataPaths, expandHome } from "../config/paths.ts";
import { resolvePi } from "../runner/pi-install.ts";
import { RunnerServer } from "../runner/server.ts";
import { SessionManager } from "../runner/session-manager.ts";
import { WorkspaceService } from "../runner/workspaces.ts";
import { cliContext } from "./context.ts";
import { VERSION } from "./version.ts";

export const RUNNER_USAGE = `usage: oqto runner [--config FILE] [--data-dir DIR] [--workspace-root DIR] [--socket PATH]

Runs the per-user runner: owns this Linux user's pi processes and serves the runner
protocol on a unix socket (mode 0600). \`oqto serve\` starts it in single-user mode.`;

export async function runRunner(argv: string[]): Promise<number> {
  const ctx = cliContext(argv, { "workspace-root": { type: "string" }, socket: { type: "string" } });
  if (ctx.flags.help) {
    console.log(RUNNER_USAGE);
    return 0;
  }
  const { config } = ctx;
  const paths = dataPaths(ctx.dataDir);
  const workspaceRoot = expandHome(
    (ctx.flags["workspace-root"] as string | undefined) ?? config.server.workspace_root,
  );
  const socketPath = expandHome(
    (ctx.flags.socket as string | undefined) ?? config.runner.socket ?? paths.runnerSocket,
  );
  const home = homedir();
  const log = (message: string) => console.error(`[runner] ${message}`);
  // A missing pi must not stop the runner: session.create then fails with spawn_failed and says why.
  let piVersion = "missing";
  try {
    piVersion = resolvePi(config).version;
  } catch (error) {
    log(`warning: ${(error as Error).message}`);
  }

  let server: RunnerServer | undefined;
  const sessions = new SessionManager({
    runnerId: "local",
    config,
    stateDir: paths.runnerState,
    workspaceRoot,
    agentDir: process.env.PI_CODING_AGENT_DIR ?? join(home, ".pi", "agent"),
    home,
    onEvent: (_sessionId, line) => server?.forwardEvent(line),
  });
  const user = userInfo();
  server = new RunnerServer({
    socketPath,
    sessions,
    workspaces: new WorkspaceService(workspaceRoot),
    log,
    hello: {
      runner_id: "local",
      runner_version: VERSION,
      user: user.username,
      uid: user.uid,
      pid: process.pid,
      started_at: Date.now(),
      capabilities: {
        harnesses: ["pi"],
        pi_version: piVersion,
        sandbox: { enabled: false, backend: "none" },
        history: { mode: "none" },
        features: ["replay"],
        max_sessions: config.runner.max_sessions,
        replay_buffer_events: config.runner.replay_buffer_events,
      },
    },
  });
  server.start();
  log(`listening on ${socketPath} (workspaces in ${workspaceRoot}, pi ${piVersion})`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      log("shutting down");
      void server.stop().finally(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  return 0;
}
