import type { Server } from "bun";
import { expandHome } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import { buildModelsJson, buildSettings } from "../llm/models-json.ts";
import { LLM_TOKEN_ENV } from "../protocol/index.ts";
import { sameMachineOrigin } from "../shared/same-machine-origin.ts";
import { AdmissionControl } from "./admission/admission-control.ts";
import { admissionLimit } from "./admission/admission-limit.ts";
import { registerAdmissionRoutes } from "./admission/admission-routes.ts";
import { createApp } from "./app.ts";
import { createAuth, mintSetupToken } from "./auth/index.ts";
import { HistoryGateway } from "./history-gateway.ts";
import { errorResponse } from "./http-errors.ts";
import { deltaMergeSettings } from "./llm-gateway/delta-merge/merge-load.ts";
import { GATEWAY_PREFIX } from "./llm-gateway/gateway.ts";
import { createLlmAccess } from "./llm-gateway/llm-access.ts";
import { readMetricsToken } from "./metrics/metrics-token.ts";
import { collectServerMetrics } from "./metrics/server-metrics.ts";
import { AgentChannel } from "./mux/agent-channel.ts";
import { FilesChannel } from "./mux/files-channel.ts";
import { HistoryChannel } from "./mux/history-channel.ts";
import type { MuxUser, SocketData } from "./mux/mux-connection.ts";
import { MuxServer } from "./mux/mux-server.ts";
import { SessionHub } from "./mux/session-hub.ts";
import { TerminalChannel } from "./mux/terminal-channel.ts";
import type { AccountProvisioner } from "./privileged/helper-client.ts";
import { registerAdminSessionRoutes } from "./routes/admin-sessions.ts";
import { registerFileRoutes } from "./routes/files.ts";
import { registerSessionControlRoutes } from "./routes/session-control.ts";
import { registerSessionRoutes } from "./routes/sessions.ts";
import { registerWorkspaceRoutes } from "./routes/workspaces.ts";
import type { RunnerClient } from "./runner/runner-client.ts";
import type { RunnerFleet, RunnerFleetEvents } from "./runner/runner-fleet.ts";
import { ownershipFrom } from "./session-ownership.ts";
import { EventStreams, registerSessionEventsRoute } from "./sse/session-events-route.ts";
import { openStore } from "./store/index.ts";
import { loadUiAssets } from "./ui/ui-assets.ts";

const MUX_PATH = "/api/ws/mux";

/**
 * An empty, spaced or otherwise invalid Host leaves Bun a request URL that does not parse (or a
 * relative one, which hono would route by the wrong path): RFC 9112 §3.2 says 400.
 */
const malformedHost = () => errorResponse("BAD_REQUEST", "malformed or missing Host header");

export interface ServerRuntimeOptions {
  config: Config;
  dataDir: string;
  host: string;
  port: number;
  version: string;
  /** The UI's `index.html` in the source tree (a compiled binary serves its embedded build instead). */
  uiIndexHtml: string;
  /** The runners: one shared (single-user mode) or one per user (multi-user mode). */
  fleet: (events: RunnerFleetEvents, hasSocketsOf: (userId: string) => boolean) => RunnerFleet;
  /** Multi-user mode: the privileged helper that makes accounts (registration). */
  provisioner?: AccountProvisioner;
  log: (message: string) => void;
}

/**
 * `oqto serve`'s server: the REST app, the multiplexed WebSocket, the embedded UI, and the relay
 * between browsers and runners. Resolves when a signal has stopped it.
 */
export async function runServerRuntime(options: ServerRuntimeOptions): Promise<void> {
  const { config, dataDir, host, port, version, log } = options;
  // Before anything starts: a configured but unreadable token file is a config error.
  const tokenFile = config.server.metrics_token_file;
  const metricsToken = tokenFile === undefined ? undefined : readMetricsToken(expandHome(tokenFile));
  const store = openStore(dataDir);
  const auth = createAuth({ config, store, dataDir });
  const ownership = ownershipFrom(store);
  const llm = createLlmAccess({
    store,
    dataDir,
    ownership,
    log,
    eavs: config.eavs,
    merge: deltaMergeSettings(config),
  });
  if (llm.eavs) {
    log(`LLM access through eavs at ${llm.eavs.url}: one virtual key per user`);
    await llm.eavs.start();
  }
  /** Where pi reaches the gateway: this server's own listener, set once it listens. */
  let gatewayBase = "";
  /** Runners that came back as another process (the metrics). */
  let runnerRestarts = 0;

  let agent: AgentChannel | undefined;
  let admission: AdmissionControl | undefined;
  let mux: MuxServer | undefined;
  let files: FilesChannel | undefined;
  let terminal: TerminalChannel | undefined;
  const userOf = (userId: string): MuxUser | undefined => {
    const user = store.users.byId(userId);
    return user ? { id: user.id, username: user.username, role: user.role } : undefined;
  };
  const hub = new SessionHub({
    unsubscribeRunner: (sessionId) => {
      const owner = ownership.owner(sessionId);
      const user = owner === undefined ? undefined : userOf(owner);
      if (!user) return;
      fleet
        .runnerFor(user)
        .request("agent.unsubscribe", { session_id: sessionId }, 10_000)
        .catch(() => {});
    },
    onClosed: (sessionId, line) => agent?.onSessionClosed(sessionId, line),
    onTurn: (sessionId, open) => admission?.onTurn(sessionId, open),
    keepRunnerSubscription: (sessionId) => admission?.isActive(sessionId) ?? false,
  });
  const pushModels = (runner: RunnerClient) => {
    const providers = llm.backend.providers();
    runner
      .request(
        "models.write",
        {
          models_json: { ...buildModelsJson(providers, gatewayBase, LLM_TOKEN_ENV) },
          settings: { ...buildSettings(providers) },
        },
        10_000,
      )
      .catch((error: Error) => log(`could not write models.json: ${error.message}`));
  };
  const fleet: RunnerFleet = options.fleet(
    {
      onEvent: (line) => hub.relay(line),
      onPush: (push, userId) => {
        if (push.type === "file_changed") files?.onPush(push);
        else if (push.type === "llm_tokens") llm.tokens.replace(userId, push.tokens);
        else if (push.type === "llm_token") {
          if (push.op === "add") llm.tokens.add(userId, push.token_hash, push.session_id);
          else llm.tokens.remove(userId, push.token_hash);
        } else terminal?.onPush(push);
      },
      onConnected: (runner, userId, hello, restarted) => {
        log(`runner connected (${hello.user}, pid ${hello.pid}${restarted ? ", restarted" : ""})`);
        if (restarted) runnerRestarts++;
        pushModels(runner);
        mux?.broadcastRunnerStatus("connected", userId);
        void agent?.resubscribeAll(restarted, userId);
        if (restarted) {
          void files?.rewatchAll(userId);
          terminal?.forgetAll(userId);
        }
      },
      onDisconnected: (userId, reason) => {
        log(`runner disconnected${userId ? ` (user ${userId})` : ""}: ${reason}`);
        llm.tokens.dropRunner(userId);
        mux?.broadcastRunnerStatus("disconnected", userId);
        const interrupted = hub.interruptTurns(
          (sessionId) => userId === undefined || ownership.owner(sessionId) === userId,
          "the runner stopped during this turn; what had streamed is kept in history",
        );
        if (interrupted.length > 0) log(`interrupted turns of ${interrupted.length} session(s)`);
        admission?.runnerGone((sessionId) => userId === undefined || ownership.owner(sessionId) === userId);
      },
    },
    (userId) => mux?.hasConnectionsOf(userId) ?? false,
  );
  const runnerFor = (user: MuxUser) => fleet.runnerFor(user);
  function pushAllModels(): void {
    for (const runner of fleet.connected()) pushModels(runner);
  }
  // eavs re-reads its providers when the list is stale; a change reaches every runner.
  if (llm.eavs) llm.eavs.onProvidersChanged = pushAllModels;
  const workspaceRootFor = (user: MuxUser) => fleet.workspaceRootFor(user);

  const limit = admissionLimit(config);
  log(`admission: at most ${limit === 0 ? "unlimited" : limit} concurrently generating session(s)`);
  admission = new AdmissionControl({
    limit,
    hub,
    forward: (user, command) => {
      if (!agent) throw new Error("the agent channel is not ready");
      return agent.forwardTurn(user, command);
    },
    log,
  });
  agent = new AgentChannel({
    hub,
    runnerFor,
    ownership,
    workspaceRootFor,
    defaultTimeoutMs: config.server.command_timeout_s * 1000,
    log,
    admission,
  });
  const history = new HistoryGateway({ runnerFor, ownership, workspaceRootFor });
  files = new FilesChannel({ runnerFor, workspaceRootFor, log });
  terminal = new TerminalChannel({ runnerFor, workspaceRootFor, log });
  mux = new MuxServer({
    agent,
    history: new HistoryChannel(history, log),
    files,
    terminal,
    hub,
    stillValid: auth.stillValid,
    serverVersion: version,
    log,
  });
  // Sessions driven over REST and their event stream: the agent channel's commands and subscriptions.
  const sessionDrive = {
    agent,
    hub,
    workspaceRootFor,
    stillValid: auth.stillValid,
    streams: new EventStreams(),
  };

  const app = createApp({
    config,
    store,
    auth,
    version,
    catalog: llm.catalog,
    ...(llm.eavs && { eavs: llm.eavs }),
    ui: await loadUiAssets(options.uiIndexHtml),
    onProvidersChanged: pushAllModels,
    closeSocketsOf: (userId) => mux?.closeUser(userId),
    metrics: {
      token: metricsToken,
      collect: () =>
        collectServerMetrics({
          version,
          connections: () => mux?.connectionCount ?? 0,
          eventsRelayed: () => hub.eventsRelayed,
          watchedSessions: () => hub.sessionIds().length,
          admission: () => ({
            limit,
            generating: admission?.queue.generatingCount ?? 0,
            queued: admission?.queue.queuedCount ?? 0,
          }),
          runners: () => fleet.connected(),
          runnerRestarts: () => runnerRestarts,
          usage: () => store.llmUsage.report({ group: "day", from: "0000-01-01", to: "9999-12-31" }).total,
          gatewayResponses: () => llm.gateway.responsesByStatus,
          gatewayRecordsMerged: () => llm.gateway.deltaRecordsSaved,
        }),
    },
    ...(options.provisioner && {
      provisioner: options.provisioner,
      releaseRunner: (id) => fleet.release(id),
    }),
    extraRoutes: (api) => {
      registerWorkspaceRoutes(api, runnerFor, workspaceRootFor);
      registerAdminSessionRoutes(api, fleet, store);
      if (admission) registerAdmissionRoutes(api, admission, store);
      registerSessionRoutes(api, history, workspaceRootFor);
      registerSessionControlRoutes(api, sessionDrive);
      registerSessionEventsRoute(api, sessionDrive);
      registerFileRoutes(api, {
        runnerFor,
        workspaceRootFor,
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
    fetch: (req, srv) => {
      if (!URL.canParse(req.url)) return malformedHost();
      // pi's LLM requests: the gateway, before the app (no cookies, no CSRF, token auth of its own).
      if (new URL(req.url).pathname.startsWith(GATEWAY_PREFIX)) {
        // Streams pause for as long as the model thinks: no idle cut-off (pi and the provider own timeouts).
        srv.timeout(req, 0);
        return llm.gateway.handle(req);
      }
      return app.fetch(req, srv);
    },
    websocket: mux.websocket(),
  });

  gatewayBase = `${sameMachineOrigin(host, server.port ?? port)}${GATEWAY_PREFIX.slice(0, -1)}`;
  fleet.start();
  mux.start();

  // Handlers first: whoever reads "listening" may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = async () => {
      log("shutting down");
      mux?.stop();
      sessionDrive.streams.closeAll();
      hub.stop();
      await fleet.stop();
      server.stop(true);
      store.close();
      resolve();
    };
    process.once("SIGTERM", () => void stop());
    process.once("SIGINT", () => void stop());
  });
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  auth.origins.addListener(host, server.port ?? port);
  console.log(`oqto ${version} listening on ${url}`);
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
}
