import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveEnvRef } from "../config/env-ref.ts";
import type { Config } from "../config/schema.ts";
import { createHistoryClient, type HistoryTarget } from "../history/client.ts";
import { EavsClient } from "../llm/eavs/eavs-client.ts";
import { HealthResponse } from "../protocol/rest.ts";
import { lookupAccount } from "../shared/linux-account.ts";
import { type DoctorCheck, errorMessage, fail, notChecked, ok, warn } from "./check.ts";
import type { DoctorHost } from "./host.ts";
import { findPortOwner, type PortOwner } from "./port-owner.ts";

/** An external service that does not answer within this is reported unreachable. */
const REACH_TIMEOUT_MS = 3_000;
/** Whatever holds the port gets this long to answer as Oqto's server. */
const HEALTH_TIMEOUT_MS = 1_000;
const CONFIG_FIRST = "fix the config, then run oqto doctor again";

function unprivilegedPortStart(procSysDir: string): number {
  try {
    return Number(readFileSync(join(procSysDir, "net/ipv4/ip_unprivileged_port_start"), "utf8").trim());
  } catch {
    return 1024;
  }
}

/** `GET /api/health` on the port: whether what holds it is an Oqto server, and which version. */
async function oqtoHealth(address: string, port: number): Promise<HealthResponse | undefined> {
  const connectTo = address === "0.0.0.0" ? "127.0.0.1" : address === "::" ? "::1" : address;
  const hostPart = connectTo.includes(":") ? `[${connectTo}]` : connectTo;
  try {
    const response = await fetch(`http://${hostPart}:${port}/api/health`, {
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    const parsed = HealthResponse.safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function describeOwner(owner: PortOwner | undefined): string {
  if (!owner) return "a process /proc does not show";
  let user = `uid ${owner.uid}`;
  try {
    user = lookupAccount(owner.uid).username;
  } catch {
    // a uid without a passwd entry (another namespace): the number it is
  }
  if (owner.pid === undefined) return `a process of ${user} (run oqto doctor as root to see which)`;
  return `pid ${owner.pid} (${owner.command ?? "command unknown"}, user ${user})`;
}

/**
 * The `[server]` port, by binding it for an instant: free is ok, Oqto's own server on it is ok,
 * anything else is named from /proc so that the admin knows what to stop.
 */
export async function checkPort(host: DoctorHost): Promise<DoctorCheck> {
  const config = host.config;
  if (!config) return notChecked("port", "the config did not load", CONFIG_FIRST);
  const { host: address, port } = config.server;
  const where = `${address}:${port}`;
  const otherPort = `set another port in [server] port of ${host.options.configFile} (or serve --port)`;
  if (port === 0) return ok("port", "port 0: serve picks a free port at each start");
  const firstUnprivileged = unprivilegedPortStart(host.options.procSysDir);
  // The multi-user web server runs as the service user without capabilities.
  if (host.multiUser && port < firstUnprivileged) {
    return fail(
      "port",
      `${where}: the multi-user web server runs as ${config.multi_user.service_user}, which may not bind ports below ${firstUnprivileged}`,
      `${otherPort} and put a reverse proxy on 80/443 (docs/OPERATIONS.md)`,
    );
  }
  try {
    Bun.listen({ hostname: address, port, socket: { data() {} } }).stop(true);
    return ok("port", `${where} is free`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EACCES") {
      return fail(
        "port",
        `${where}: this user may not bind ports below ${firstUnprivileged}`,
        `${otherPort} (${firstUnprivileged} or above), or run serve as root`,
      );
    }
    if (code === "EADDRNOTAVAIL") {
      return fail(
        "port",
        `${where}: ${address} is not an address of this machine`,
        `set [server] host in ${host.options.configFile}`,
      );
    }
    if (code !== "EADDRINUSE")
      return fail("port", `${where} cannot be bound: ${errorMessage(error)}`, otherPort);
  }
  const health = await oqtoHealth(address, port);
  if (health) return ok("port", `${where} is Oqto's server (version ${health.version}), already running`);
  const owner = findPortOwner(port);
  const stop =
    owner?.pid === undefined ? "stop the program that holds it" : `stop pid ${owner.pid} (kill ${owner.pid})`;
  return fail(
    "port",
    `${where} is in use by ${describeOwner(owner)}, not by Oqto's server`,
    `${stop}, or ${otherPort}`,
  );
}

function historyTarget(
  table: NonNullable<Config["hstry"]>,
): { target: HistoryTarget; where: string } | undefined {
  if (table.socket) return { target: { socketPath: table.socket }, where: `socket ${table.socket}` };
  if (table.url) return { target: { url: table.url }, where: table.url };
  return undefined;
}

/** An external hstry answers a real read (ListConversations, one row) within the timeout. */
export async function checkHstry(host: DoctorHost): Promise<DoctorCheck> {
  if (!host.config) return notChecked("hstry", "the config did not load", CONFIG_FIRST);
  const table = host.config.hstry;
  const external = table && historyTarget(table);
  if (!external) return ok("hstry", "no [hstry] table: each runner starts the embedded oqto hstry");
  const client = createHistoryClient(external.target);
  try {
    await client.read.listConversations({ limit: 1n }, { timeoutMs: REACH_TIMEOUT_MS });
    return ok("hstry", `the external hstry at ${external.where} answers`);
  } catch (error) {
    return fail(
      "hstry",
      `the external hstry at ${external.where} does not answer: ${errorMessage(error)}`,
      `start that hstry service, or correct [hstry] in ${host.options.configFile} (remove the table to use the embedded one)`,
    );
  } finally {
    client.close();
  }
}

/** eavs' `GET /health`, then one master-key call when the key is in this environment. */
export async function checkEavs(host: DoctorHost): Promise<DoctorCheck> {
  if (!host.config) return notChecked("eavs", "the config did not load", CONFIG_FIRST);
  const table = host.config.eavs;
  if (!table) return ok("eavs", "no [eavs] table: the gateway uses the providers configured in Oqto");
  let masterKey: string | undefined;
  let keyProblem = "";
  try {
    masterKey = resolveEnvRef(table.master_key, "eavs.master_key", host.options.env);
  } catch (error) {
    keyProblem = errorMessage(error);
  }
  const timeoutMs = Math.min(table.timeout_s * 1000, REACH_TIMEOUT_MS);
  // health() sends no key, so the unresolved reference stands in when the key is not in this environment.
  const client = new EavsClient({ baseUrl: table.url, masterKey: masterKey ?? table.master_key, timeoutMs });
  try {
    await client.health();
  } catch (error) {
    return fail(
      "eavs",
      `eavs at ${table.url} does not answer GET /health: ${errorMessage(error)}`,
      `start eavs (eavs service start), or correct [eavs] url in ${host.options.configFile}`,
    );
  }
  if (!masterKey) {
    return warn(
      "eavs",
      `eavs at ${table.url} is up; the master key is not checked: ${keyProblem}`,
      "run oqto doctor with the environment serve gets (e.g. the service's EnvironmentFile) to check the key",
    );
  }
  try {
    await client.quotas();
    return ok("eavs", `eavs at ${table.url} is up and accepts the master key`);
  } catch (error) {
    return fail(
      "eavs",
      `eavs at ${table.url} refuses an admin call with the master key: ${errorMessage(error)}`,
      "set eavs.master_key (or its environment variable) to the master key eavs runs with ([keys] master_key)",
    );
  }
}
