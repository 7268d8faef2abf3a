import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import uiIndex from "../../ui/index.html";
import { ConfigError } from "../config/load.ts";
import { dataPaths, expandHome } from "../config/paths.ts";
import { buildModelsJson, buildSettings } from "../llm/models-json.ts";
import { createApp } from "../server/app.ts";
import { createAuth, mintSetupToken } from "../server/auth/index.ts";
import { HistoryGateway } from "../server/history-gateway.ts";
import { errorResponse } from "../server/http-errors.ts";
import { AgentChannel } from "../server/mux/agent-channel.ts";
import { FilesChannel } from "../server/mux/files-channel.ts";
import { HistoryChannel } from "../server/mux/history-channel.ts";
import type { SocketData } from "../server/mux/mux-connection.ts";
import { MuxServer } from "../server/mux/mux-server.ts";
import { SessionHub } from "../server/mux/session-hub.ts";
import { TerminalChannel } from "../server/mux/terminal-channel.ts";
import { registerFileRoutes } from "../server/routes/files.ts";
import { registerSessionRoutes } from "../server/routes/sessions.ts";
import { registerWorkspaceRoutes } from "../server/routes/workspaces.ts";
import { assertServeDataOutOfReach, dropTo, runnerAccount, runnerEnv } from "../server/runner/run-as.ts";
import { RunnerClient } from "../server/runner/runner-client.ts";
import { RunnerSupervisor } from "../server/runner/runner-supervisor.ts";
import { ownershipFrom } from "../server/session-ownership.ts";
import { openStore } from "../server/store/index.ts";
import { loadUiAssets } from "../server/ui/ui-assets.ts";
import { cliContext, portFlag } from "./context.ts";
import { selfCommand } from "./self-command.ts";
import { VERSION } from "./version.ts";

export const SERVE_USAGE = `usage: oqto serve [--config FILE] [--data-dir DIR] [--host H] [--port N] [--workspace-root DIR] [--run-as USER]

Runs the web server. In single-user mode it starts and supervises its own runner: as this
user, or, when serve runs as root, as the unprivileged USER of --run-as ([server] run_as).
On first start (no admin yet) it prints a one-time setup token for /setup.`;

/** Why serve as root needs a user to run the runner as, and the ways out. */
export const SERVE_ROOT_REFUSAL =
  "oqto serve refuses to run as root without multi-user mode (not available yet) or a user to run the runner as: " +
  "every agent, terminal and file operation would run as uid 0. " +
  'Start it with --run-as USER (or set run_as = "USER" in [server]) to run the runner as that unprivileged Linux user, ' +
  "or run oqto serve as an unprivileged user.";

const MUX_PATH = "/api/ws/mux";

/**
 * An empty, spaced or otherwise invalid Host leaves Bun a request URL that does not parse (or a
 * relative one, which hono would route by the wrong path): RFC 9112 §3.2 says 400.
 */
const malformedHost = () => errorResponse("BAD_REQUEST", "malformed or missing Host header");

export async function runServe(argv: string[]): Promise<number> {
  const ctx = cliContext(argv, {
    host: { type: "string" },
    port: { type: "string" },
    "workspace-root": { type: "string" },
    "run-as": { type: "string" },
  });
  if (ctx.flags.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const { config, dataDir } = ctx;
  const host = (ctx.flags.host as string | undefined) ?? config.server.host;
  const port = portFlag(ctx.flags.port, "port") ?? config.server.port;
  const runAs = runnerAccount((ctx.flags["run-as"] as string | undefined) ?? config.server.run_as);
  if (process.getuid?.() === 0 && config.runner.supervise && !runAs)
    throw new ConfigError(SERVE_ROOT_REFUSAL);
  if (runAs) assertServeDataOutOfReach(dataDir, runAs);
  // The runner's own paths are its user's: in the home of run_as, or serve's when it is that user.
  const runnerHome = runAs?.home ?? homedir();
  const runnerDataDir = runAs ? join(runAs.home, ".local/share/oqto") : dataDir;
  const workspaceRoot = expandHome(
    (ctx.flags["workspace-root"] as string | undefined) ?? config.server.workspace_root,
    runnerHome,
  );
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The runner creates the workspace root itself, as its own user.
  if (!runAs) mkdirSync(workspaceRoot, { recursive: true, mode: 0o700 });
  const log = (message: string) => console.error(`[serve] ${message}`);

  const store = openStore(dataDir);
  const auth = createAuth({ config, store, dataDir });
  const ownership = ownershipFrom(store);

  // Single-user mode: one runner, as one Linux user, serves every platform user of this server.
  const runnerArgs = ["runner", "--data-dir", runnerDataDir, "--workspace-root", workspaceRoot];
  if (typeof ctx.flags.config === "string") runnerArgs.push("--config", expandHome(ctx.flags.config));
  const runnerSocket = config.runner.socket
    ? expandHome(config.runner.socket, runnerHome)
    : dataPaths(runnerDataDir).runnerSocket;
  runnerArgs.push("--socket", runnerSocket);
  const supervisor = new RunnerSupervisor({
    argv: runAs ? [...dropTo(runAs), ...selfCommand(), ...runnerArgs] : [...selfCommand(), ...runnerArgs],
    env: runAs ? runnerEnv(runAs) : (process.env as Record<string, string>),
    log,
  });
  if (runAs) log(`runner runs as ${runAs.username} (uid ${runAs.uid}), workspaces in ${workspaceRoot}`);

  let agent: AgentChannel | undefined;
  let mux: MuxServer | undefined;
  let files: FilesChannel | undefined;
  let terminal: TerminalChannel | undefined;
  const hub = new SessionHub({
    unsubscribeRunner: (sessionId) => {
      runner.request("agent.unsubscribe", { session_id: sessionId }, 10_000).catch(() => {});
    },
    onClosed: (sessionId, line) => agent?.onSessionClosed(sessionId, line),
  });
  const pushModels = () => {
    const providers = store.providers.list();
    runner
      .request(
        "models.write",
        { models_json: { ...buildModelsJson(providers) }, settings: { ...buildSettings(providers) } },
        10_000,
      )
      .catch((error: Error) => log(`could not write models.json: ${error.message}`));
  };
  const runner: RunnerClient = new RunnerClient({
    socketPath: runnerSocket,
    serverVersion: VERSION,
    onEvent: (line) => hub.relay(line),
    onConnected: (hello, restarted) => {
      log(`runner connected (pid ${hello.pid}${restarted ? ", restarted" : ""})`);
      pushModels();
      mux?.broadcastRunnerStatus("connected");
      void agent?.resubscribeAll(restarted);
      if (restarted) {
        void files?.rewatchAll();
        terminal?.forgetAll();
      }
    },
    onPush: (push) => {
      if (push.type === "file_changed") files?.onPush(push);
      else terminal?.onPush(push);
    },
    onDisconnected: (reason) => {
      log(`runner disconnected: ${reason}`);
      mux?.broadcastRunnerStatus("disconnected");
    },
    log,
  });
  agent = new AgentChannel({
    hub,
    runnerFor: () => runner,
    ownership,
    workspaceRootFor: () => workspaceRoot,
    defaultTimeoutMs: config.server.command_timeout_s * 1000,
    log,
  });
  const history = new HistoryGateway({
    runnerFor: () => runner,
    ownership,
    workspaceRootFor: () => workspaceRoot,
  });
  files = new FilesChannel({ runnerFor: () => runner, workspaceRootFor: () => workspaceRoot, log });
  terminal = new TerminalChannel({ runnerFor: () => runner, workspaceRootFor: () => workspaceRoot, log });
  mux = new MuxServer({
    agent,
    history: new HistoryChannel(history, log),
    files,
    terminal,
    hub,
    stillValid: auth.stillValid,
    serverVersion: VERSION,
    log,
  });

  const app = createApp({
    config,
    store,
    auth,
    version: VERSION,
    ui: await loadUiAssets(uiIndex),
    onProvidersChanged: pushModels,
    closeSocketsOf: (userId) => mux?.closeUser(userId),
    extraRoutes: (api) => {
      registerWorkspaceRoutes(
        api,
        () => runner,
        () => workspaceRoot,
      );
      registerSessionRoutes(api, history, () => workspaceRoot);
      registerFileRoutes(api, {
        runnerFor: () => runner,
        workspaceRootFor: () => workspaceRoot,
        maxUploadBytes: config.server.max_upload_mb * 1024 * 1024,
      });
    },
  });

  const upgradeMux = async (req: Request, server: Server<SocketData>) => {
    if (!URL.canParse(req.url)) return malformedHost();
    const identity = await auth.authenticateRequest(req);
    if (!identity) return errorResponse("UNAUTHORIZED", "authentication required");
    const { id, username, role } = identity.user;
    const upgraded = server.upgrade(req, {
      data: { user: { id, username, role }, credential: identity.credential },
    });
    return upgraded ? undefined : errorResponse("BAD_REQUEST", "expected a WebSocket upgrade");
  };

  const server = Bun.serve<SocketData>({
    hostname: host,
    port,
    development: false,
    // Uploads stream through in chunks; the upload limit (checked with a clear 413 by the route) bounds them.
    maxRequestBodySize: (config.server.max_upload_mb + 1) * 1024 * 1024,
    routes: { [MUX_PATH]: upgradeMux },
    // Everything else, the UI's pages and chunks included, goes through the app and its security headers.
    fetch: (req, srv) => (URL.canParse(req.url) ? app.fetch(req, srv) : malformedHost()),
    websocket: mux.websocket(),
  });

  if (config.runner.supervise) supervisor.start();
  runner.start();
  mux.start();

  // Handlers first: whoever reads "listening" may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = async () => {
      log("shutting down");
      mux?.stop();
      hub.stop();
      if (runner.isReady) await runner.request("runner.shutdown", { grace_s: 3 }, 8_000).catch(() => {});
      runner.stop();
      await supervisor.stop();
      server.stop(true);
      store.close();
      resolve();
    };
    process.once("SIGTERM", () => void stop());
    process.once("SIGINT", () => void stop());
  });
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  auth.origins.addListener(host, server.port ?? port);
  console.log(`oqto ${VERSION} listening on ${url}`);
  log(
    `signed-in browsers may make changes from: ${auth.origins.list().join(", ")} (add others with [server] public_url)`,
  );
  const setupToken = mintSetupToken(store);
  if (setupToken) {
    console.log(
      `\nNo admin account exists yet. Open ${url}/setup and enter this one-time setup token (valid 24 h):\n\n  ${setupToken}\n\nor create one offline: oqto user add NAME --admin --password-stdin\n`,
    );
  }

  await stopped;
  return 0;
}
