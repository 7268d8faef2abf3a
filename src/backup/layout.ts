/**
 * Where each file a backup holds lives on this install: the same function answers for the backup
 * (where to read) and for the restore (where to write), so a backup made on one install lands where
 * another install of any layout expects it.
 */
import { join } from "node:path";
import { dataPaths, ETC_SANDBOX_FILE, expandHome, systemSandboxFile } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import { historyDbPath } from "../history/service/paths.ts";
import { linuxUserName } from "../protocol/privileged.ts";
import { type LinuxAccount, lookupAccount } from "../shared/linux-account.ts";
import type { EntryRole } from "./manifest.ts";

export interface InstallLayout {
  config: Config;
  configFile: string;
  dataDir: string;
  multiUser: boolean;
  /** Single-user with `run_as`: the account the runner (and so its history DB) belongs to. */
  runAs: LinuxAccount | undefined;
  /** `/etc/oqto/sandbox.toml` (tests point it elsewhere). */
  etcSandboxFile: string;
}

export function installLayout(options: {
  config: Config;
  configFile: string;
  dataDir: string;
  runAs: string | undefined;
  etcSandboxFile?: string;
}): InstallLayout {
  const multiUser = options.config.server.multi_user;
  if (multiUser && options.runAs !== undefined)
    throw new Error(
      "--run-as is for single-user installs; in multi-user mode every user's history is in their own account",
    );
  const runAsName = multiUser ? undefined : (options.runAs ?? options.config.server.run_as);
  return {
    config: options.config,
    configFile: options.configFile,
    dataDir: options.dataDir,
    multiUser,
    runAs: runAsName === undefined ? undefined : lookupAccount(runAsName),
    etcSandboxFile: options.etcSandboxFile ?? ETC_SANDBOX_FILE,
  };
}

/** History in an external hstry is that service's to back up. */
export function historyIsExternal(layout: InstallLayout): boolean {
  return layout.config.hstry !== undefined;
}

/** The runner's data dir in single-user mode: run_as's own, or serve's (as serve starts it). */
function singleUserRunnerDataDir(layout: InstallLayout): string {
  return layout.runAs ? join(layout.runAs.home, ".local/share/oqto") : layout.dataDir;
}

/** The data dir of a multi-user account's runner (as the privileged helper starts it). */
function accountDataDir(account: LinuxAccount): string {
  return join(account.home, ".local/share/oqto");
}

/** The Linux account of a platform user in multi-user mode, or undefined when it does not exist. */
export function findUserAccount(platformUser: string): LinuxAccount | undefined {
  try {
    return lookupAccount(linuxUserName(platformUser));
  } catch {
    return undefined;
  }
}

/**
 * The path of a file that is not a history DB. The sandbox file is the one the runners read:
 * always /etc's in multi-user mode, else /etc's when present, else the runner's data dir's.
 */
export function installFilePath(layout: InstallLayout, role: Exclude<EntryRole, "history-db">): string {
  const paths = dataPaths(layout.dataDir);
  switch (role) {
    case "platform-db":
      return paths.db;
    case "jwt-secret":
      return paths.jwtSecret;
    case "key-vault-secret":
      return paths.keyVaultSecret;
    case "config":
      return layout.configFile;
    case "sandbox":
      return layout.multiUser
        ? layout.etcSandboxFile
        : systemSandboxFile(singleUserRunnerDataDir(layout), layout.etcSandboxFile);
  }
}

/** The single-user runner's history DB. */
export function singleUserHistoryPath(layout: InstallLayout): string {
  return historyDbPath(singleUserRunnerDataDir(layout));
}

/** The single-user runner's socket, as serve computes it. */
export function singleUserRunnerSocket(layout: InstallLayout): string {
  const socket = layout.config.runner.socket;
  if (socket) return expandHome(socket, layout.runAs?.home);
  return dataPaths(singleUserRunnerDataDir(layout)).runnerSocket;
}

/** The single-user runner's data dir and the account it belongs to (undefined: this process's user). */
export function singleUserRunnerData(layout: InstallLayout): {
  dir: string;
  account: LinuxAccount | undefined;
} {
  return { dir: singleUserRunnerDataDir(layout), account: layout.runAs };
}

/** A multi-user account's history DB. */
export function accountHistoryPath(account: LinuxAccount): string {
  return historyDbPath(accountDataDir(account));
}
