import { mkdirSync, realpathSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, sep } from "node:path";
import { ConfigError } from "../config/load.ts";
import { dataPaths, defaultConfigFile, expandHome, systemSandboxFile } from "../config/paths.ts";
import { FileService } from "../runner/files/file-service.ts";
import { sweepPartials } from "../runner/files/partial-sweep.ts";
import { StreamRegistry } from "../runner/files/stream-registry.ts";
import { UploadStreams } from "../runner/files/upload-streams.ts";
import { connectHistory } from "../runner/history/history-connection.ts";
import { SessionHistory } from "../runner/history/session-history.ts";
import { LlmTokens } from "../runner/llm/llm-tokens.ts";
import { agentMethods } from "../runner/methods/agent-methods.ts";
import { filesMethods } from "../runner/methods/files-methods.ts";
import { historyMethods } from "../runner/methods/history-methods.ts";
import { sandboxMethods } from "../runner/methods/sandbox-methods.ts";
import { terminalMethods } from "../runner/methods/terminal-methods.ts";
import { workspaceMethods } from "../runner/methods/workspace-methods.ts";
import { resolvePi } from "../runner/pi-install.ts";
import { detectBwrap } from "../runner/sandbox/detect.ts";
import { WorkspaceProfiles } from "../runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../runner/sandbox/workspace-sandbox.ts";
import { agentSandbox, terminalSandbox } from "../runner/sandbox/wrap.ts";
import { RunnerServer } from "../runner/server.ts";
import { piLaunchSessionDir } from "../runner/session-files.ts";
import { SessionManager } from "../runner/session-manager.ts";
import { loginAccount } from "../runner/terminal/login-account.ts";
import { TerminalManager } from "../runner/terminal/terminal-manager.ts";
import { owningWorkspace } from "../runner/workspace-dir.ts";
import { WorkspaceService } from "../runner/workspaces.ts";
import { selfCommand, selfCommandPaths } from "../shared/self-command.ts";
import { isSocketAnswering } from "../shared/unix-socket.ts";
import { cliContext } from "./context.ts";
import { VERSION } from "./version.ts";

export const RUNNER_USAGE = `usage: oqto runner [--config FILE] [--data-dir DIR] [--workspace-root DIR] [--socket PATH] [--socket-mode 0600|0660]

Runs the per-user runner: owns this Linux user's pi processes and serves the runner
protocol on a unix socket (mode 0600; 0660 lets the group of its directory in, which is how
the server reaches it in multi-user mode). \`oqto serve\` starts it in single-user mode, the
privileged helper in multi-user mode. It refuses to start when another runner answers on its socket.
It never runs as root: agents, terminals and file operations would run as uid 0.`;

/** Why the runner refuses uid 0, and the ways out. */
export const RUNNER_ROOT_REFUSAL =
  "oqto runner refuses to run as root: every agent, terminal and file operation would run as uid 0. " +
  "Run it as an unprivileged Linux user, or let `oqto serve --run-as USER` (or [server] run_as) start it as one.";

/** The outermost `node_modules` directory holding pi, which must be readable inside the sandbox. */
function nodeModulesRoot(cli: string): string {
  const index = cli.indexOf(`${sep}node_modules${sep}`);
  return index < 0 ? dirname(dirname(cli)) : cli.slice(0, index + `${sep}node_modules`.length);
}

/** What the runner's hello reports: the global profile's switch and the bwrap that would run it. */
function sandboxCapability(sandbox: WorkspaceSandbox): {
  enabled: boolean;
  backend: string;
  version?: string;
} {
  let enabled = true;
  try {
    enabled = sandbox.global().enabled;
  } catch {
    // An invalid global file fails every start closed; the sandbox is still on.
  }
  try {
    return { enabled, backend: "bwrap", version: detectBwrap().version };
  } catch {
    return { enabled, backend: "bwrap (missing)" };
  }
}

function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

export async function runRunner(argv: string[]): Promise<number> {
  const ctx = cliContext(argv, {
    "workspace-root": { type: "string" },
    socket: { type: "string" },
    "socket-mode": { type: "string" },
  });
  if (ctx.flags.help) {
    console.log(RUNNER_USAGE);
    return 0;
  }
  if (process.getuid?.() === 0) throw new ConfigError(RUNNER_ROOT_REFUSAL);
  const { config } = ctx;
  const paths = dataPaths(ctx.dataDir);
  const workspaceRoot = expandHome(
    (ctx.flags["workspace-root"] as string | undefined) ?? config.server.workspace_root,
  );
  const socketPath = expandHome(
    (ctx.flags.socket as string | undefined) ?? config.runner.socket ?? paths.runnerSocket,
  );
  const socketModeFlag = ctx.flags["socket-mode"] ?? "0600";
  if (socketModeFlag !== "0600" && socketModeFlag !== "0660")
    throw new ConfigError(`--socket-mode must be 0600 or 0660, not '${socketModeFlag}'`);
  // One runner per socket: a second one would unlink the live runner's socket and take its place.
  if (await isSocketAnswering(socketPath))
    throw new ConfigError(`another runner is already listening on ${socketPath}`);
  const home = homedir();
  const log = (message: string) => console.error(`[runner] ${message}`);
  // A missing pi must not stop the runner: session.create then fails with spawn_failed and says why.
  let piVersion = "missing";
  // pi's files and runtime must be readable inside the sandbox wherever they live.
  let piPaths: string[] = [];
  try {
    const pi = resolvePi(config);
    piVersion = pi.version;
    piPaths = [nodeModulesRoot(pi.cli), pi.runtime];
  } catch (error) {
    log(`warning: ${(error as Error).message}`);
  }

  let server: RunnerServer | undefined;
  const configFile = typeof ctx.flags.config === "string" ? expandHome(ctx.flags.config) : undefined;
  const history = await connectHistory({
    config,
    dataDir: ctx.dataDir,
    log,
    ...(configFile ? { configFile } : {}),
  });
  // Agent dirs an earlier runner could not remove (SIGKILL) are gone with their sandboxes.
  const bridgeRoot = join(paths.runnerState, "agents");
  rmSync(bridgeRoot, { recursive: true, force: true });
  // Oqto's pi config (models.json, which holds no key) and pi's session files live in the hidden
  // runner state; each agent gets its own read-only copy and its own LLM token (agentSandbox).
  const agentDir = join(paths.runnerState, "pi");
  const sandbox = new WorkspaceSandbox({
    systemFile: systemSandboxFile(ctx.dataDir),
    home,
    multiUser: false,
    choices: new WorkspaceProfiles(join(paths.runnerState, "workspace-profiles.json")),
  });
  // pi's session files: each launch binds only its own session's dir (sessionDirFor below).
  const flatSessionDir = config.pi.session_dir ? ensureDir(expandHome(config.pi.session_dir)) : undefined;
  const sandboxBase = {
    sandbox,
    home,
    workspaceRoot,
    hiddenPaths: [ctx.dataDir, dirname(defaultConfigFile()), ...(flatSessionDir ? [flatSessionDir] : [])],
  };
  const llmTokens = new LlmTokens((frame) => server?.push(frame));
  const sessions = new SessionManager({
    runnerId: "local",
    config,
    stateDir: paths.runnerState,
    workspaceRoot,
    agentDir,
    home,
    history: history.store,
    // A warm spare is made under its workspace's effective profile and must still match it.
    launchKey: (workspacePath) =>
      JSON.stringify(sandbox.effective(owningWorkspace(realpathSync(workspaceRoot), workspacePath))),
    wrapAgent: agentSandbox({
      ...sandboxBase,
      extraRoBinds: piPaths,
      agent: {
        root: bridgeRoot,
        piConfigDir: agentDir,
        mintLlmToken: (sessionId) => llmTokens.mint(sessionId),
        sessionDirFor: (cwd, launch) => piLaunchSessionDir(flatSessionDir, agentDir, cwd, launch),
        shimCommand: [...selfCommand(), "sandbox-shim"],
        shimPaths: selfCommandPaths(),
        cacheRoot: join(paths.runnerState, "cache"),
        log,
      },
    }),
    onEvent: (_sessionId, line) => server?.forwardEvent(line),
  });
  // Whole-file writes (REST uploads arrive as chunked writes) share the server's upload limit.
  mkdirSync(workspaceRoot, { recursive: true, mode: 0o700 });
  const files = new FileService({
    workspaceRoot,
    limits: { maxFileBytes: config.server.max_upload_mb * 1024 * 1024 },
  });
  // Temp files a killed runner left mid-write; the ones this runner makes are newer than now.
  void sweepPartials(workspaceRoot, Date.now()).then((removed) => {
    if (removed > 0) log(`removed ${removed} partial file(s) an earlier runner left behind`);
  });
  const terminals = new TerminalManager({
    workspaceRoot,
    wrapCommand: terminalSandbox(sandboxBase),
    onOutput: (terminalId, bytes) =>
      push({
        type: "terminal_output",
        terminal_id: terminalId,
        data_base64: Buffer.from(bytes).toString("base64"),
      }),
    onExit: (terminalId, status) => push({ type: "terminal_exit", terminal_id: terminalId, ...status }),
  });
  const transfers = new StreamRegistry((streamId, payload) =>
    server ? server.sendData(streamId, payload) : Promise.resolve(false),
  );
  const uploads = new UploadStreams(files);
  const push = (frame: Record<string, unknown>) => server?.push(frame);
  // From passwd, not the environment: Bun's os.userInfo() reads $USER and may say "unknown".
  const user = loginAccount();
  server = new RunnerServer({
    socketPath,
    socketMode: socketModeFlag === "0660" ? 0o660 : 0o600,
    log,
    methods: {
      ...agentMethods(sessions),
      ...historyMethods(new SessionHistory({ store: history.store, sessions })),
      ...filesMethods(files, transfers, uploads, push),
      ...terminalMethods(terminals),
      ...workspaceMethods(new WorkspaceService(workspaceRoot, (path) => sandbox.get(path).profile)),
      ...sandboxMethods(sandbox, workspaceRoot),
    },
    status: () => ({
      sessions: sessions.status().sessions,
      terminals: terminals.count,
      history: history.status(),
    }),
    shutdown: async (graceS) => {
      await sessions.shutdown(graceS);
      await terminals.closeAll();
      transfers.closeAll();
      uploads.closeAll();
      await files.close();
      await history.stop();
    },
    onServerGone: () => {
      sessions.unsubscribeAll();
      terminals.detachAll();
      // Transfers belong to the connection that opened them: a new server starts its own.
      transfers.closeAll();
      uploads.closeAll();
    },
    onData: (streamId, payload) => uploads.receive(streamId, payload),
    onServerConnected: () => llmTokens.announce(),
    hello: {
      runner_id: "local",
      runner_version: VERSION,
      user: user.username,
      uid: process.getuid?.() ?? -1,
      pid: process.pid,
      started_at: Date.now(),
      capabilities: {
        harnesses: ["pi"],
        pi_version: piVersion,
        // Worked out at every hello: bwrap may be installed or removed while the runner runs.
        get sandbox() {
          return sandboxCapability(sandbox);
        },
        history: { mode: history.mode },
        features: ["replay", "terminal", "files.watch"],
        max_sessions: config.runner.max_sessions,
        replay_buffer_events: config.runner.replay_buffer_events,
      },
    },
  });
  server.start();

  // Handlers first: whoever reads "listening" may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      log("shutting down");
      void server.stop().finally(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log(`listening on ${socketPath} (workspaces in ${workspaceRoot}, pi ${piVersion})`);
  await stopped;
  return 0;
}
