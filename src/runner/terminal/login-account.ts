import { accessSync, constants } from "node:fs";
import { basename, isAbsolute } from "node:path";
import { lookupAccount } from "../../shared/linux-account.ts";

/** The passwd facts a login shell needs. */
export interface LoginAccount {
  username: string;
  home: string;
  /** Absolute path of the shell that is started with `-l`. */
  shell: string;
}

export const FALLBACK_SHELL = "/bin/bash";
/** Shells that only refuse logins; Oqto accounts may carry them to keep SSH closed. */
const REFUSING_SHELLS = new Set(["nologin", "false"]);

/** The passwd shell when it is a usable login shell, else the fallback. */
export function usableShell(shell: string): string {
  if (!isAbsolute(shell) || REFUSING_SHELLS.has(basename(shell))) return FALLBACK_SHELL;
  try {
    accessSync(shell, constants.X_OK);
    return shell;
  } catch {
    return FALLBACK_SHELL;
  }
}

/** The login facts of `uid` (default: the runner's own user) from its passwd entry. */
export function loginAccount(uid: number = process.getuid?.() ?? -1): LoginAccount {
  if (uid < 0) throw new Error("login accounts need a POSIX system (process.getuid is missing)");
  const account = lookupAccount(uid);
  return { username: account.username, home: account.home, shell: usableShell(account.shell) };
}
