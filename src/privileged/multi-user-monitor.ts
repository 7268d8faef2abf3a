import { spawn } from "node:child_process";
import { chmodSync, chownSync, lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { type LinuxAccount, lookupAccount } from "../shared/linux-account.ts";
import { PrivilegedHelper } from "./privileged-helper.ts";
import { RunnerLauncher } from "./runner-launcher.ts";

export interface MonitorOptions {
  config: Config;
  /** serve's data dir: the platform DB and JWT secret, the service user's alone. */
  dataDir: string;
  /** argv that runs this binary again. */
  selfCommand: string[];
  /** Arguments for the unprivileged server (`serve --helper-socket …` is added). */
  serverArgs: string[];
  configFile?: string;
  log: (message: string) => void;
}

/** The service user the web server runs as: made as a system user when missing, never root. */
function ensureServiceUser(name: string, home: string): LinuxAccount {
  try {
    lookupAccount(name);
  } catch {
    const made = Bun.spawnSync(
      [
        "useradd",
        "--system",
        "--user-group",
        "--home-dir",
        home,
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        name,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (made.exitCode !== 0) throw new Error(`useradd ${name} failed: ${made.stderr.toString().trim()}`);
  }
  const account = lookupAccount(name);
  if (account.uid === 0 || account.gid === 0) throw new Error(`the service user '${name}' must not be root`);
  return account;
}

/** serve's data dir belongs to the service user, whoever made its files (a root `oqto user add`). */
function ownDataDir(dataDir: string, service: LinuxAccount): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!lstatSync(dataDir).isDirectory()) throw new Error(`${dataDir} is not a directory`);
  const chown = Bun.spawnSync(["chown", "-R", "--no-dereference", `${service.uid}:${service.gid}`, dataDir], {
    stderr: "pipe",
  });
  if (chown.exitCode !== 0) throw new Error(`chown ${dataDir} failed: ${chown.stderr.toString().trim()}`);
  chmodSync(dataDir, 0o700);
}

/**
 * `oqto serve --multi-user`, as root: the privileged half. It keeps only the privileged helper
 * (accounts and runners, over its socket) and runs the web server itself as the unprivileged
 * service user, as its child. When the server ends, so does this process; the runners live on.
 */
export async function runMultiUserMonitor(options: MonitorOptions): Promise<number> {
  const { config, dataDir, log } = options;
  const settings = config.multi_user;
  const service = ensureServiceUser(settings.service_user, dataDir);
  ownDataDir(dataDir, service);
  mkdirSync(settings.runtime_dir, { recursive: true, mode: 0o755 });
  chownSync(settings.runtime_dir, 0, 0);
  chmodSync(settings.runtime_dir, 0o755);
  const launcher = new RunnerLauncher({
    runtimeDir: settings.runtime_dir,
    logDir: settings.log_dir,
    serverGid: service.gid,
    runnerCommand: options.selfCommand,
    ...(options.configFile && { configFile: options.configFile }),
  });
  const helper = new PrivilegedHelper({ launcher, homeBase: settings.home_base, log });
  const helperSocket = join(settings.runtime_dir, "server", "helper.sock");
  helper.listen(helperSocket, service);
  log(
    `privileged helper listening on ${helperSocket}; the web server runs as ${service.username} (uid ${service.uid})`,
  );

  const child = spawn(
    "setpriv",
    [
      "--reuid",
      String(service.uid),
      "--regid",
      String(service.gid),
      "--init-groups",
      "--inh-caps=-all",
      "--",
      ...options.selfCommand,
      "serve",
      "--helper-socket",
      helperSocket,
      "--data-dir",
      dataDir,
      ...(options.configFile ? ["--config", options.configFile] : []),
      ...options.serverArgs,
    ],
    {
      stdio: "inherit",
      env: {
        HOME: dataDir,
        USER: service.username,
        LOGNAME: service.username,
        PATH: "/usr/local/bin:/usr/bin:/bin",
        LANG: "C.UTF-8",
      },
    },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGTERM", forward("SIGTERM"));
  process.on("SIGINT", forward("SIGINT"));
  const code = await new Promise<number>((resolve) => {
    child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  helper.stop();
  log(`the web server exited (${code}); runners keep running`);
  return code;
}
