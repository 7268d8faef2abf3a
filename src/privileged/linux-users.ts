import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { linuxUserName } from "../protocol/privileged.ts";
import { type LinuxAccount, lookupAccount } from "../shared/linux-account.ts";

/** Written into the comment field of the accounts Oqto makes: the helper acts only on accounts that carry it. */
export const ACCOUNT_MARKER = "oqto platform user";
/** Below this, uids are the system's (Debian's UID_MIN). */
const MIN_UID = 1000;
const NOBODY_UID = 65534;

/** A rule the helper will not break (as opposed to a system call that failed). */
export class RefusedError extends Error {}

function findAccount(name: string): LinuxAccount | null {
  try {
    return lookupAccount(name);
  } catch {
    return null;
  }
}

/** An account of ours: the marker, an ordinary uid, never root, never nobody. */
export function assertOurs(account: LinuxAccount): LinuxAccount {
  if (account.uid === 0 || account.gid === 0)
    throw new RefusedError(`'${account.username}' has uid or gid 0`);
  if (account.uid < MIN_UID || account.uid === NOBODY_UID)
    throw new RefusedError(`'${account.username}' has the system uid ${account.uid}`);
  if (account.gecos.split(",")[0] !== ACCOUNT_MARKER)
    throw new RefusedError(`'${account.username}' exists but was not made by Oqto; it is left alone`);
  return account;
}

function run(argv: string[]): void {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0)
    throw new Error(`${argv[0]} failed (exit ${result.exitCode}): ${result.stderr.toString().trim()}`);
}

export interface ProvisionOptions {
  /** Homes are created here (`/home`). */
  homeBase: string;
}

export interface ProvisionedUser {
  account: LinuxAccount;
  workspaceRoot: string;
  created: boolean;
}

/** A directory of `account`, made or fixed as root: owned by it, mode 0700, never through a symlink. */
function ownDirectory(path: string, account: LinuxAccount): void {
  mkdirSync(path, { recursive: false, mode: 0o700 });
  const stat = lstatSync(path);
  if (!stat.isDirectory()) throw new RefusedError(`${path} is not a directory`);
  chownSync(path, account.uid, account.gid);
  chmodSync(path, 0o700);
}

/**
 * The user's Linux account: created with its own group, a 0700 home and the workspace root
 * `~/oqto`; an existing account is used only when it is ours. Idempotent.
 */
export function ensureLinuxUser(platformName: string, options: ProvisionOptions): ProvisionedUser {
  const name = linuxUserName(platformName);
  let account = findAccount(name);
  const created = account === null;
  if (account === null) {
    run([
      "useradd",
      "--create-home",
      "--home-dir",
      join(options.homeBase, name),
      "--user-group",
      "--shell",
      "/bin/bash",
      "--comment",
      ACCOUNT_MARKER,
      name,
    ]);
    account = lookupAccount(name);
  }
  assertOurs(account);
  // useradd honours the system's HOME_MODE; the home is the user's alone either way.
  const home = lstatSync(account.home);
  if (!home.isDirectory() || home.uid !== account.uid)
    throw new RefusedError(`${account.home} is not a directory owned by ${name}`);
  chmodSync(account.home, 0o700);
  const workspaceRoot = join(account.home, "oqto");
  try {
    ownDirectory(workspaceRoot, account);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const stat = lstatSync(workspaceRoot);
    if (!stat.isDirectory() || stat.uid !== account.uid)
      throw new RefusedError(`${workspaceRoot} is not a directory owned by ${name}`);
  }
  return { account, workspaceRoot, created };
}

/** The account of an existing user of ours, or null when there is none. */
export function ourAccount(platformName: string): LinuxAccount | null {
  const account = findAccount(linuxUserName(platformName));
  return account === null ? null : assertOurs(account);
}

/** The uid a process runs as (its real uid), or null when it is gone (a zombie counts as gone). */
export function processUid(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    if (/^State:\s+Z/m.test(status)) return null;
    const match = /^Uid:\s+(\d+)/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Every process whose real uid is `uid`. */
export function processesOf(uid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => processUid(pid) === uid);
}

/** Ends every process of the account (SIGKILL: it is being deleted), then deletes it. */
export function deleteLinuxUser(account: LinuxAccount, removeHome: boolean): void {
  assertOurs(account);
  for (let round = 0; round < 20; round++) {
    const left = processesOf(account.uid);
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    Bun.sleepSync(50);
  }
  run(removeHome ? ["userdel", "--remove", account.username] : ["userdel", account.username]);
}
