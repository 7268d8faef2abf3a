import { z } from "zod";
import { expandHome } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import { readMetricsToken } from "../server/metrics/metrics-token.ts";
import { lookupAccount } from "../shared/linux-account.ts";
import { findInstallProcesses, flagValue, type InstallIdentity, oqtoCommand } from "./install-processes.ts";
import { listeningAddresses, urlOf } from "./listening-address.ts";
import type { ProcEntry } from "./proc-table.ts";
import { type MetricSample, probeHealth, scrapeMetrics } from "./server-probe.ts";

const Count = z.number().int().nonnegative();
export const StatusProcess = z.strictObject({
  pid: z.number().int().positive(),
  user: z.string(),
  uid: Count,
  uptime_s: z.number().nonnegative(),
});
export type StatusProcess = z.infer<typeof StatusProcess>;

/** `oqto status --json`. */
export const StatusReport = z.strictObject({
  cli_version: z.string(),
  mode: z.enum(["single-user", "multi-user"]),
  config_file: z.string(),
  data_dir: z.string(),
  server: z.strictObject({
    /** This install's `oqto serve` process, when /proc shows one. */
    process: StatusProcess.nullable(),
    /** Where it was reached (or would be): its listening socket, its flags, or the config. */
    url: z.string().nullable(),
    reachable: z.boolean(),
    version: z.string().optional(),
    multi_user: z.boolean().optional(),
    /** Why it was not reachable. */
    error: z.string().optional(),
  }),
  /** Multi-user: the root process holding the privileged helper. */
  helper: StatusProcess.nullable(),
  runners: z.array(StatusProcess.extend({ history: z.array(StatusProcess), pi_processes: Count })),
  sessions: z.discriminatedUnion("known", [
    z.strictObject({
      known: z.literal(true),
      /** Running sessions that are not closed. */
      open: Count,
      by_state: z.record(z.string(), Count),
      websocket_connections: Count,
      runners_connected: Count,
      runner_restarts: Count,
    }),
    z.strictObject({ known: z.literal(false), reason: z.string() }),
  ]),
});
export type StatusReport = z.infer<typeof StatusReport>;

export interface StatusInputs {
  config: Config;
  configFile: string;
  install: InstallIdentity;
  cliVersion: string;
  table: ProcEntry[];
  now: number;
}

function describer(now: number): (entry: ProcEntry) => StatusProcess {
  const names = new Map<number, string>();
  const nameOf = (uid: number) => {
    let name = names.get(uid);
    if (name === undefined) {
      try {
        name = lookupAccount(uid).username;
      } catch {
        name = String(uid);
      }
      names.set(uid, name);
    }
    return name;
  };
  return (entry) => ({
    pid: entry.pid,
    user: nameOf(entry.uid),
    uid: entry.uid,
    uptime_s: Math.max(0, Math.round((now - entry.startedAt) / 100) / 10),
  });
}

/** Where the server is reached: the socket it listens on, else its --host/--port, else the config's (unless port 0). */
function serverUrl(server: ProcEntry | undefined, config: Config): string | null {
  if (server) {
    const [address] = listeningAddresses(server.pid) ?? [];
    if (address) return urlOf(address);
  }
  const args = server ? (oqtoCommand(server.argv)?.args ?? []) : [];
  const port = Number(flagValue(args, "port") ?? config.server.port);
  const host = flagValue(args, "host") ?? config.server.host;
  return port > 0 ? urlOf({ host, port }) : null;
}

function sessionFigures(samples: MetricSample[]): StatusReport["sessions"] {
  const value = (name: string) => samples.find((sample) => sample.name === name)?.value ?? 0;
  const byState: Record<string, number> = {};
  for (const sample of samples)
    if (sample.name === "oqto_sessions" && sample.labels.state !== undefined)
      byState[sample.labels.state] = sample.value;
  return {
    known: true,
    open: Object.entries(byState).reduce(
      (sum, [state, count]) => (state === "closed" ? sum : sum + count),
      0,
    ),
    by_state: byState,
    websocket_connections: value("oqto_websocket_connections"),
    runners_connected: value("oqto_runners_connected"),
    runner_restarts: value("oqto_runner_restarts_total"),
  };
}

async function sessions(
  url: string | null,
  reachable: boolean,
  config: Config,
): Promise<StatusReport["sessions"]> {
  const tokenFile = config.server.metrics_token_file;
  if (tokenFile === undefined) return { known: false, reason: "no metrics token configured" };
  if (!url || !reachable) return { known: false, reason: "the server does not answer" };
  let token: string;
  try {
    token = readMetricsToken(expandHome(tokenFile));
  } catch (error) {
    return { known: false, reason: (error as Error).message };
  }
  const scraped = await scrapeMetrics(url, token);
  return scraped.ok ? sessionFigures(scraped.value) : { known: false, reason: scraped.error };
}

/** What runs for this install: processes from /proc, the server's own view over HTTP. */
export async function gatherStatus(inputs: StatusInputs): Promise<StatusReport> {
  const { config, install } = inputs;
  const describe = describer(inputs.now);
  const found = findInstallProcesses(inputs.table, install);
  const url = serverUrl(found.server, config);
  const health = url ? await probeHealth(url) : { ok: false as const, error: "no address to reach it at" };
  return {
    cli_version: inputs.cliVersion,
    mode: install.multiUser ? "multi-user" : "single-user",
    config_file: inputs.configFile,
    data_dir: install.dataDir,
    server: {
      process: found.server ? describe(found.server) : null,
      url,
      reachable: health.ok,
      ...(health.ok
        ? { version: health.value.version, multi_user: health.value.multi_user }
        : { error: health.error }),
    },
    helper: found.helper ? describe(found.helper) : null,
    runners: found.runners.map(({ runner, history, pi }) => ({
      ...describe(runner),
      history: history.map(describe),
      pi_processes: pi.length,
    })),
    sessions: await sessions(url, health.ok, config),
  };
}
