import { join } from "node:path";
import { systemSandboxFile } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import { type LinuxAccount, lookupAccount } from "../shared/linux-account.ts";

/** Everything the checks read from the host, given from outside so that tests can point it at temp dirs. */
export interface DoctorOptions {
  /** Loads the config exactly as serve and runner do; throws on a config error. */
  loadConfig: () => Config;
  /** The config file that loader reads. */
  configFile: string;
  /** `--data-dir`, when given; else `[multi_user] data_dir` in multi-user mode, else `defaultDataDir`. */
  dataDirFlag?: string;
  /** The single-user data dir (`$XDG_DATA_HOME/oqto`). */
  defaultDataDir: string;
  /** `/etc/oqto`: the installed config.toml and sandbox.toml. */
  etcDir: string;
  /** `/proc/sys`: the kernel switches for user namespaces and unprivileged ports. */
  procSysDir: string;
  /** The PATH bwrap is looked up on (the one oqto runs with). */
  path: string;
  home: string;
  /** The config dir the runner hides from every sandbox (the trial sandbox hides it too). */
  configDir: string;
  /** argv that runs this oqto again: the binary alone when compiled, bun and the entry from source. */
  self: string[];
  env: Record<string, string | undefined>;
}

/** What the checks need to know about this install, derived once from the options and the config. */
export interface DoctorHost {
  options: DoctorOptions;
  /** Undefined when the config did not load. */
  config: Config | undefined;
  multiUser: boolean;
  /** Multi-user, or the config read from the etc dir: a service install, where backups and systemd matter. */
  installed: boolean;
  dataDir: string;
  /** The global sandbox file the runners read. */
  sandboxFile: string;
  /** Multi-user: the service user's account, when it exists. */
  serviceAccount: LinuxAccount | undefined;
  /** The unprivileged account agents run as when the doctor is root (the service user, or `run_as`). */
  agentAccount: LinuxAccount | undefined;
  uid: number;
}

function findAccount(name: string | undefined): LinuxAccount | undefined {
  if (name === undefined) return undefined;
  try {
    return lookupAccount(name);
  } catch {
    return undefined;
  }
}

export function resolveHost(options: DoctorOptions, config: Config | undefined): DoctorHost {
  const multiUser = config?.server.multi_user ?? false;
  const dataDir =
    options.dataDirFlag ?? (multiUser && config ? config.multi_user.data_dir : options.defaultDataDir);
  const etcSandbox = join(options.etcDir, "sandbox.toml");
  const serviceAccount = multiUser ? findAccount(config?.multi_user.service_user) : undefined;
  const runAs = multiUser ? undefined : findAccount(config?.server.run_as);
  // With run_as, serve runs the runner with that user's own data dir, and the sandbox file in it.
  const runnerDataDir = runAs ? join(runAs.home, ".local/share/oqto") : dataDir;
  const uid = process.getuid?.() ?? 0;
  return {
    options,
    config,
    multiUser,
    installed: multiUser || options.configFile === join(options.etcDir, "config.toml"),
    dataDir,
    // Multi-user runners read only the root-owned file in /etc (the loader refuses anything else).
    sandboxFile: multiUser ? etcSandbox : systemSandboxFile(runnerDataDir, etcSandbox),
    serviceAccount,
    agentAccount: uid === 0 ? (serviceAccount ?? runAs) : undefined,
    uid,
  };
}
