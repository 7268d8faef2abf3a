import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../config/load.ts";
import { dataPaths, expandHome } from "../config/paths.ts";
import { runMultiUserMonitor } from "../privileged/multi-user-monitor.ts";
import { HelperClient } from "../server/privileged/helper-client.ts";
import { PerUserFleet } from "../server/runner/per-user-fleet.ts";
import { assertServeDataOutOfReach, dropTo, runnerAccount, runnerEnv } from "../server/runner/run-as.ts";
import { RunnerSupervisor } from "../server/runner/runner-supervisor.ts";
import { SharedRunnerFleet } from "../server/runner/shared-runner-fleet.ts";
import { runServerRuntime } from "../server/server-runtime.ts";
import { selfCommand } from "../shared/self-command.ts";
import { type CliContext, cliContext, portFlag } from "./context.ts";
import { VERSION } from "./version.ts";

export const SERVE_USAGE = `usage: oqto serve [--config FILE] [--data-dir DIR] [--host H] [--port N] [--workspace-root DIR] [--run-as USER]
       oqto serve --multi-user [--config FILE] [--data-dir DIR] [--host H] [--port N]

Runs the web server. In single-user mode it starts and supervises its own runner: as this
user, or, when serve runs as root, as the unprivileged USER of --run-as ([server] run_as).
In multi-user mode ([server] multi_user = true; needs root) every platform user gets a Linux
user oqto_<name> and a runner of their own: root keeps only the privileged helper that makes
accounts and starts runners, and the web server itself runs as [multi_user] service_user.
On first start (no admin yet) it prints a one-time setup token for /setup.`;

/** Why serve as root needs a user to run the runner as, and the ways out. */
export const SERVE_ROOT_REFUSAL =
  "oqto serve refuses to run as root without multi-user mode or a user to run the runner as: " +
  "every agent, terminal and file operation would run as uid 0. " +
  "Start it with --multi-user (or multi_user = true in [server]) to give every user a Linux user of their own, " +
  'with --run-as USER (or run_as = "USER" in [server]) to run the one runner as that unprivileged Linux user, ' +
  "or run oqto serve as an unprivileged user.";

const log = (message: string) => console.error(`[serve] ${message}`);
/** Built in memory when serve runs from source; a compiled binary serves its embedded build. */
const UI_INDEX_HTML = resolve(import.meta.dir, "../../ui/index.html");

function listenFlags(ctx: CliContext): { host: string; port: number } {
  return {
    host: (ctx.flags.host as string | undefined) ?? ctx.config.server.host,
    port: portFlag(ctx.flags.port, "port") ?? ctx.config.server.port,
  };
}

function configFileOf(ctx: CliContext): string | undefined {
  return typeof ctx.flags.config === "string" ? expandHome(ctx.flags.config) : undefined;
}

/** Single-user mode: one runner, as one Linux user, serves every platform user of this server. */
async function runSingleUser(ctx: CliContext): Promise<number> {
  const { config, dataDir } = ctx;
  const { host, port } = listenFlags(ctx);
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
  const runnerSocket = config.runner.socket
    ? expandHome(config.runner.socket, runnerHome)
    : dataPaths(runnerDataDir).runnerSocket;
  const configFile = configFileOf(ctx);
  const runnerArgs = [
    "runner",
    "--data-dir",
    runnerDataDir,
    "--workspace-root",
    workspaceRoot,
    "--socket",
    runnerSocket,
    ...(configFile ? ["--config", configFile] : []),
  ];
  const supervisor = config.runner.supervise
    ? new RunnerSupervisor({
        socketPath: runnerSocket,
        argv: runAs ? [...dropTo(runAs), ...selfCommand(), ...runnerArgs] : [...selfCommand(), ...runnerArgs],
        env: runAs ? runnerEnv(runAs) : (process.env as Record<string, string>),
        log,
      })
    : undefined;
  if (runAs) log(`runner runs as ${runAs.username} (uid ${runAs.uid}), workspaces in ${workspaceRoot}`);
  await runServerRuntime({
    config,
    dataDir,
    host,
    port,
    version: VERSION,
    uiIndexHtml: UI_INDEX_HTML,
    log,
    fleet: (events) =>
      new SharedRunnerFleet({
        socketPath: runnerSocket,
        workspaceRoot,
        serverVersion: VERSION,
        ...(supervisor && { supervisor }),
        events,
        log,
      }),
  });
  return 0;
}

/** Multi-user mode, the unprivileged half: the web server, as the service user, with the helper's socket. */
async function runMultiUserServer(ctx: CliContext, helperSocket: string): Promise<number> {
  if (process.getuid?.() === 0)
    throw new ConfigError(
      "--helper-socket is the multi-user server's own flag: it runs as the service user, never root",
    );
  const { config } = ctx;
  const { host, port } = listenFlags(ctx);
  const provisioner = await HelperClient.connect(helperSocket, (reason) => {
    // Nothing works without the helper; the root process that runs it is gone or going.
    log(`the privileged helper went away (${reason}); stopping`);
    process.kill(process.pid, "SIGTERM");
  });
  await runServerRuntime({
    config,
    dataDir: ctx.dataDir,
    host,
    port,
    version: VERSION,
    uiIndexHtml: UI_INDEX_HTML,
    log,
    provisioner,
    fleet: (events, hasSocketsOf) =>
      new PerUserFleet({
        provisioner,
        runtimeDir: config.multi_user.runtime_dir,
        homeBase: config.multi_user.home_base,
        serverVersion: VERSION,
        idleTimeoutMs: config.multi_user.runner_idle_s * 1000,
        hasSockets: hasSocketsOf,
        events,
        log,
      }),
  });
  provisioner.close();
  return 0;
}

export async function runServe(argv: string[]): Promise<number> {
  const ctx = cliContext(argv, {
    host: { type: "string" },
    port: { type: "string" },
    "workspace-root": { type: "string" },
    "run-as": { type: "string" },
    "multi-user": { type: "boolean" },
    "helper-socket": { type: "string" },
  });
  if (ctx.flags.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const helperSocket = ctx.flags["helper-socket"];
  if (typeof helperSocket === "string") return runMultiUserServer(ctx, helperSocket);
  if (ctx.flags["multi-user"] !== true && !ctx.config.server.multi_user) return runSingleUser(ctx);

  if (process.getuid?.() !== 0)
    throw new ConfigError(
      "multi-user mode needs root: it creates a Linux user for every platform user and starts their runners " +
        "(run oqto serve --multi-user as root, e.g. from the systemd unit install.sh sets up)",
    );
  for (const flag of ["run-as", "workspace-root"])
    if (ctx.flags[flag] !== undefined)
      throw new ConfigError(
        `--${flag} is for single-user mode; in multi-user mode each user's workspaces are ~/oqto`,
      );
  if (ctx.config.server.run_as !== undefined)
    throw new ConfigError(
      "[server] run_as is for single-user mode; multi-user mode uses [multi_user] service_user",
    );
  const { host, port } = listenFlags(ctx);
  const configFile = configFileOf(ctx);
  return runMultiUserMonitor({
    config: ctx.config,
    dataDir: typeof ctx.flags["data-dir"] === "string" ? ctx.dataDir : ctx.config.multi_user.data_dir,
    selfCommand: selfCommand(),
    serverArgs: ["--host", host, "--port", String(port)],
    ...(configFile && { configFile }),
    log,
  });
}
