import { basename } from "node:path";
import { absoluteFor, type ProcEntry } from "./proc-table.ts";

/** What tells this install's processes from another's on the same host. */
export interface InstallIdentity {
  configFile: string;
  dataDir: string;
  /** Who runs `oqto status`: a serve that names neither path is ours only if it runs as us. */
  uid: number;
  multiUser: boolean;
  /** Multi-user: runners listen under `<runtime dir>/runners/`. */
  runtimeDir: string;
}

export interface RunnerProcesses {
  runner: ProcEntry;
  /** Its embedded `oqto hstry` (none with an external hstry). */
  history: ProcEntry[];
  /** pi processes under it (not the bwrap around them). */
  pi: ProcEntry[];
}

export interface InstallProcesses {
  /** The web server: `oqto serve`, in multi-user mode the unprivileged one. */
  server: ProcEntry | undefined;
  /** Multi-user: the root `oqto serve --multi-user` that holds the privileged helper. */
  helper: ProcEntry | undefined;
  runners: RunnerProcesses[];
}

/** The oqto subcommand and its arguments: `oqto CMD …`, or `bun …/src/cli/main.ts CMD …` from source. */
export function oqtoCommand(argv: string[]): { command: string; args: string[] } | undefined {
  if (basename(argv[0] ?? "") === "oqto" && argv[1] !== undefined)
    return { command: argv[1], args: argv.slice(2) };
  if (/(^|\/)src\/cli\/main\.ts$/.test(argv[1] ?? "") && argv[2] !== undefined)
    return { command: argv[2], args: argv.slice(3) };
  return undefined;
}

/** pi in RPC mode (PI-RPC.md), not the bwrap or sandbox shim around it, whose argv holds pi's too. */
export function isPi(argv: string[]): boolean {
  if (oqtoCommand(argv) || basename(argv[0] ?? "") === "bwrap") return false;
  return argv.some((arg, i) => arg === "--mode" && argv[i + 1] === "rpc");
}

/** A flag's value in an argv: `--name VALUE` or `--name=VALUE`. */
export function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

const role = (entry: ProcEntry) => oqtoCommand(entry.argv)?.command;
const argsOf = (entry: ProcEntry) => oqtoCommand(entry.argv)?.args ?? [];

/** Whether a serve process runs on this install's data: by its --data-dir, else its --config, else its user. */
function servesThisInstall(entry: ProcEntry, install: InstallIdentity): boolean {
  const dataDir = flagValue(argsOf(entry), "data-dir");
  if (dataDir !== undefined) return absoluteFor(entry.pid, dataDir) === install.dataDir;
  const config = flagValue(argsOf(entry), "config");
  if (config !== undefined) return absoluteFor(entry.pid, config) === install.configFile;
  return entry.uid === install.uid;
}

function descendantsOf(pid: number, children: Map<number, ProcEntry[]>): ProcEntry[] {
  const found: ProcEntry[] = [];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as ProcEntry;
    found.push(next);
    stack.push(...(children.get(next.pid) ?? []));
  }
  return found;
}

/**
 * This install's processes: its web server (the oldest, should there be more), the multi-user helper
 * above it, and the runners it talks to with their history services and pi processes. Single-user
 * runners are the server's children; multi-user runners are nobody's (setsid) and are known by
 * their socket under the runtime dir.
 */
export function findInstallProcesses(table: ProcEntry[], install: InstallIdentity): InstallProcesses {
  const byPid = new Map(table.map((entry) => [entry.pid, entry]));
  const children = new Map<number, ProcEntry[]>();
  for (const entry of table) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry]);
  const serves = table.filter((entry) => role(entry) === "serve");
  // The multi-user root process runs the web server as its child: the server is the serve with no serve below it.
  const server = serves
    .filter((entry) => !(children.get(entry.pid) ?? []).some((child) => role(child) === "serve"))
    .filter((entry) => servesThisInstall(entry, install))
    .sort((a, b) => a.startedAt - b.startedAt)[0];
  const parent = server && byPid.get(server.ppid);
  const helper = parent && role(parent) === "serve" ? parent : undefined;
  const runnerRoot = `${install.runtimeDir.replace(/\/+$/, "")}/runners/`;
  const runners = table.filter((entry) => {
    if (role(entry) !== "runner") return false;
    if (server && entry.ppid === server.pid) return true;
    return install.multiUser && (flagValue(argsOf(entry), "socket") ?? "").startsWith(runnerRoot);
  });
  return {
    server,
    helper,
    runners: runners.map((runner) => ({
      runner,
      history: table.filter(
        (entry) =>
          role(entry) === "hstry" &&
          (entry.ppid === runner.pid || flagValue(argsOf(entry), "parent-pid") === String(runner.pid)),
      ),
      pi: descendantsOf(runner.pid, children).filter((entry) => isPi(entry.argv)),
    })),
  };
}
