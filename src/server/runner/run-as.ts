import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../../config/load.ts";
import { type LinuxAccount, lookupAccount } from "../../shared/linux-account.ts";

/**
 * The account `--run-as` / `[server] run_as` names, checked: it must exist, must not be root,
 * and only root can switch to it. Undefined when none is named.
 */
export function runnerAccount(name: string | undefined): LinuxAccount | undefined {
  if (name === undefined) return undefined;
  let account: LinuxAccount;
  try {
    account = lookupAccount(name);
  } catch (error) {
    throw new ConfigError(`run_as: ${(error as Error).message}`);
  }
  if (account.uid === 0) {
    throw new ConfigError(`run_as '${name}' is root: it must name an unprivileged Linux user`);
  }
  if (process.getuid?.() !== 0) {
    throw new ConfigError(
      `run_as '${name}' needs oqto serve to run as root (it switches the runner to that user)`,
    );
  }
  return account;
}

/**
 * argv prefix that starts the runner as `account`: real and effective ids, its own groups only
 * (root's supplementary groups would otherwise stay), no inheritable capabilities. setpriv comes
 * with util-linux, which every Debian has.
 */
export function dropTo(account: LinuxAccount): string[] {
  return [
    "setpriv",
    `--reuid=${account.uid}`,
    `--regid=${account.gid}`,
    "--init-groups",
    "--inh-caps=-all",
    "--",
  ];
}

/** Root's environment names root's home and runtime dirs; the runner gets its user's instead. */
const ROOT_ONLY = /^(HOME|USER|LOGNAME|MAIL|SHELL|XDG_[A-Z_]+|SUDO_[A-Z_]+|DBUS_SESSION_BUS_ADDRESS)$/;

export function runnerEnv(account: LinuxAccount): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !ROOT_ONLY.test(name)) env[name] = value;
  }
  return { ...env, HOME: account.home, USER: account.username, LOGNAME: account.username };
}

/**
 * serve's data dir (JWT secret, platform database) must be out of the runner user's reach: not
 * in its home, and no part of the path owned by it (an owner can rename or replace what is below).
 */
export function assertServeDataOutOfReach(dataDir: string, account: LinuxAccount): void {
  const refuse = (why: string) =>
    new ConfigError(
      `serve's data dir '${dataDir}' ${why}, so the runner's user '${account.username}' could change serve's secrets; ` +
        "use a root-owned dir such as /var/lib/oqto (--data-dir)",
    );
  const home = resolve(account.home);
  let path = resolve(dataDir);
  if (path === home || path.startsWith(`${home}/`)) throw refuse(`is inside ${home}`);
  for (;;) {
    const owner = statSync(path, { throwIfNoEntry: false })?.uid;
    if (owner === account.uid) throw refuse(`has '${path}', owned by that user, on its path`);
    if (path === "/") return;
    path = dirname(path);
  }
}
