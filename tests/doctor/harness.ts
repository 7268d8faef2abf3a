/** Runs `oqto doctor` the way a user does (a real process) against a host made of temp dirs. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { type DoctorCheck, DoctorCheckSchema } from "../../src/doctor/check.ts";
import { runProcess } from "../helpers/run-process.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");

export interface Host {
  home: string;
  configFile: string;
  dataDir: string;
  /** Passed as --etc-dir, so that this machine's /etc/oqto plays no part; absent unless a test makes it. */
  etcDir: string;
  env: Record<string, string>;
}

let hosts = 0;
/**
 * A fresh user: own HOME and XDG dirs under `root`. Its default config file holds only a port of its
 * own (so that whatever else runs on this machine plays no part), unless `config` says otherwise
 * (null: no config file at all).
 */
export function freshHost(root: string, options: { path?: string; config?: string | null } = {}): Host {
  const home = join(root, `h${++hosts}`);
  mkdirSync(home, { mode: 0o755 });
  const env = {
    PATH: options.path ?? process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, "cfg"),
    XDG_DATA_HOME: join(home, "data"),
  };
  const host = {
    home,
    configFile: join(env.XDG_CONFIG_HOME, "oqto", "config.toml"),
    dataDir: join(env.XDG_DATA_HOME, "oqto"),
    etcDir: join(home, "etc-oqto"),
    env,
  };
  const config = options.config === undefined ? `[server]\nport = ${freePort()}\n` : options.config;
  if (config !== null) writeConfig(host, config);
  return host;
}

/** Writes the host's default config file (where serve and the doctor look without --config). */
export function writeConfig(host: Host, toml: string): void {
  mkdirSync(join(host.home, "cfg", "oqto"), { recursive: true });
  writeFileSync(host.configFile, toml);
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

export const doctor = (
  host: Host,
  args: string[] = [],
  options: { uid?: number; gid?: number; wrap?: string[] } = {},
) =>
  runProcess([...(options.wrap ?? []), process.execPath, MAIN, "doctor", "--etc-dir", host.etcDir, ...args], {
    env: host.env,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });

export async function doctorJson(
  host: Host,
  args: string[] = [],
  options: { uid?: number; gid?: number; wrap?: string[] } = {},
): Promise<{ code: number; checks: DoctorCheck[] }> {
  const { code, stdout, stderr } = await doctor(host, [...args, "--json"], options);
  if (!stdout.trim().startsWith("[")) throw new Error(`doctor printed no JSON (exit ${code}): ${stderr}`);
  const checks = z.array(DoctorCheckSchema).parse(JSON.parse(stdout));
  // Every run of every test holds the doctor to its promise: no warning or failure without a fix.
  const withoutFix = checks.filter((entry) => entry.status !== "ok" && !entry.fix);
  if (withoutFix.length > 0) throw new Error(`warn/fail without a fix: ${JSON.stringify(withoutFix)}`);
  return { code, checks };
}

export function check(checks: DoctorCheck[], name: string): DoctorCheck {
  const found = checks.find((entry) => entry.check === name);
  if (!found) throw new Error(`no '${name}' check in ${JSON.stringify(checks)}`);
  return found;
}

export const failed = (checks: DoctorCheck[]): string[] =>
  checks.filter((entry) => entry.status === "fail").map((entry) => entry.check);
