import { accessSync, constants } from "node:fs";
import { basename, isAbsolute } from "node:path";

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

/**
 * The passwd entry of `uid` (default: the runner's own user), read through `getent` so NSS
 * sources (LDAP, systemd-homed) count. `os.userInfo()` is no substitute under Bun: it takes
 * the name, home and shell from the environment ($USER, $HOME, $SHELL).
 */
export function loginAccount(uid: number = process.getuid?.() ?? -1): LoginAccount {
  if (uid < 0) throw new Error("login accounts need a POSIX system (process.getuid is missing)");
  const result = Bun.spawnSync(["getent", "passwd", String(uid)], { stdout: "pipe", stderr: "pipe" });
  const line = result.stdout.toString().split("\n")[0] ?? "";
  // name:password:uid:gid:gecos:home:shell
  const fields = line.split(":");
  if (result.exitCode !== 0 || fields.length !== 7) {
    throw new Error(`no passwd entry for uid ${uid} (getent passwd exited ${result.exitCode})`);
  }
  const [username = "", , , , , home = "", shell = ""] = fields;
  if (!username || !isAbsolute(home)) throw new Error(`passwd entry for uid ${uid} is malformed: '${line}'`);
  return { username, home, shell: usableShell(shell) };
}
