import { isAbsolute } from "node:path";

/** A passwd entry: what dropping to a Linux user and starting its login shell need. */
export interface LinuxAccount {
  username: string;
  uid: number;
  gid: number;
  /** The comment field (full name), where Oqto marks the accounts it made. */
  gecos: string;
  home: string;
  /** The passwd shell as written (may refuse logins). */
  shell: string;
}

/**
 * The passwd entry of a user name or uid, read through `getent` so NSS sources (LDAP,
 * systemd-homed) count. `os.userInfo()` is no substitute under Bun: it takes the name, home and
 * shell from the environment ($USER, $HOME, $SHELL). Throws with a message for the terminal.
 */
export function lookupAccount(user: string | number): LinuxAccount {
  const key = String(user);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/.test(key))
    throw new Error(`'${key}' is not a user name or uid`);
  const result = Bun.spawnSync(["getent", "passwd", key], { stdout: "pipe", stderr: "pipe" });
  const line = result.stdout.toString().split("\n")[0] ?? "";
  // name:password:uid:gid:gecos:home:shell
  const fields = line.split(":");
  if (result.exitCode !== 0 || fields.length !== 7) {
    throw new Error(`no Linux user '${key}' (getent passwd exited ${result.exitCode})`);
  }
  const [username = "", , uid = "", gid = "", gecos = "", home = "", shell = ""] = fields;
  if (!username || !isAbsolute(home) || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) {
    throw new Error(`passwd entry for '${key}' is malformed: '${line}'`);
  }
  return { username, uid: Number(uid), gid: Number(gid), gecos, home, shell };
}
