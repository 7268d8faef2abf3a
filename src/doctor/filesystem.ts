import { accessSync, constants, existsSync, lstatSync, type Stats, statfsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { dataPaths } from "../config/paths.ts";
import { lookupAccount } from "../shared/linux-account.ts";
import { type DoctorCheck, fail, octalMode, ok, warn } from "./check.ts";
import type { DoctorHost } from "./host.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Below either limit SQLite writes and uploads start to fail: fail. */
const DISK_FAIL = { bytes: 256 * MiB, fraction: 0.02 };
/** Below either limit it is time to make room: warn. */
const DISK_WARN = { bytes: 2 * GiB, fraction: 0.1 };

export function userName(uid: number): string {
  try {
    return lookupAccount(uid).username;
  } catch {
    return `uid ${uid}`;
  }
}

function accessibleToMe(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Multi-user: the service user owns the data dir and may write it (the doctor runs as root there). */
function checkServiceDataDir(host: DoctorHost, dir: string, stat: Stats): DoctorCheck {
  const name = host.config?.multi_user.service_user ?? "oqto";
  const account = host.serviceAccount;
  const mode = octalMode(stat.mode);
  if (!account) {
    return warn(
      "data-dir",
      `${dir} (mode ${mode}): its owner is not checked, the service user ${name} does not exist yet`,
      "see the service-user check",
    );
  }
  const ownerFix = `chown -R ${name}:${name} ${dir} && chmod 700 ${dir} (serve --multi-user also does this at start)`;
  if (stat.uid !== account.uid || (stat.mode & 0o700) !== 0o700) {
    return fail(
      "data-dir",
      `${dir} is owned by ${userName(stat.uid)} with mode ${mode}: the web server, running as ${name}, cannot write its database there`,
      ownerFix,
    );
  }
  const db = lstatSync(dataPaths(dir).db, { throwIfNoEntry: false });
  if (db && db.uid !== account.uid) {
    return fail(
      "data-dir",
      `${dataPaths(dir).db} is owned by ${userName(db.uid)}, not by ${name}: the web server cannot write it`,
      ownerFix,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    return warn(
      "data-dir",
      `${dir} has mode ${mode}: group/other may reach the database, JWT secret and provider keys`,
      `chmod 700 ${dir}`,
    );
  }
  return ok("data-dir", `${dir} (mode ${mode}, owned by the service user ${name})`);
}

/** Single-user: the data dir is the user's own, private, and writable by the user running oqto. */
function checkOwnDataDir(host: DoctorHost, dir: string, stat: Stats): DoctorCheck {
  const mode = octalMode(stat.mode);
  const me = userName(host.uid);
  if (!accessibleToMe(dir, constants.W_OK | constants.X_OK)) {
    const fix =
      stat.uid === host.uid ? `chmod 700 ${dir}` : `as root: chown -R ${host.uid} ${dir} && chmod 700 ${dir}`;
    return fail(
      "data-dir",
      `${dir} (mode ${mode}, owner ${userName(stat.uid)}) is not writable by ${me}, who runs oqto: serve cannot create its database there`,
      fix,
    );
  }
  const db = dataPaths(dir).db;
  if (existsSync(db) && !accessibleToMe(db, constants.R_OK | constants.W_OK)) {
    return fail("data-dir", `${db} is not writable by ${me}`, `chown ${host.uid} ${db}`);
  }
  if (stat.uid !== host.uid) {
    return warn(
      "data-dir",
      `${dir} is owned by ${userName(stat.uid)}, not by ${me} (uid ${host.uid})`,
      `chown -R ${host.uid} ${dir}`,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    return warn(
      "data-dir",
      `${dir} has mode ${mode}: group/other may reach the database, JWT secret and runner socket`,
      `chmod 700 ${dir}`,
    );
  }
  return ok("data-dir", `${dir} (mode ${mode})`);
}

export function checkDataDir(host: DoctorHost): DoctorCheck {
  const dir = host.dataDir;
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) {
    const maker = host.multiUser
      ? "serve --multi-user creates it (0700, the service user's)"
      : "serve creates it (0700)";
    return ok("data-dir", `${dir} not created yet; ${maker}`);
  }
  if (!stat.isDirectory()) {
    return fail("data-dir", `${dir} exists but is not a directory`, `move it away, or pass --data-dir DIR`);
  }
  return host.multiUser ? checkServiceDataDir(host, dir, stat) : checkOwnDataDir(host, dir, stat);
}

/**
 * /etc/oqto holds the policy every sandbox obeys: only root may change it, and every runner (each
 * user's account) and the web server read config.toml and sandbox.toml from it.
 */
export function checkEtcDir(host: DoctorHost): DoctorCheck {
  const dir = host.options.etcDir;
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat) {
    if (!host.multiUser) return ok("etc-dir", `${dir} not present; single-user mode needs nothing there`);
    return fail(
      "etc-dir",
      `${dir} does not exist: multi-user runners start no agent without ${join(dir, "sandbox.toml")}`,
      "run install.sh (it writes config.toml and sandbox.toml there)",
    );
  }
  if (!stat.isDirectory()) {
    return fail("etc-dir", `${dir} is not a directory`, `as root: move ${dir} away and run install.sh again`);
  }
  const problems: { detail: string; fix: string }[] = [];
  const inspect = (path: string, stats: Stats) => {
    if (stats.uid !== 0)
      problems.push({
        detail: `${path} is owned by ${userName(stats.uid)}, not root`,
        fix: `chown root:root ${path}`,
      });
    if ((stats.mode & 0o022) !== 0) {
      problems.push({
        detail: `${path} has mode ${octalMode(stats.mode)}: group/other may change the policy every sandbox obeys`,
        fix: `chmod go-w ${path}`,
      });
    }
    // Each runner runs as its user's account, not in the service user's group: others must read.
    if (host.multiUser && (stats.mode & 0o004) === 0) {
      problems.push({
        detail: `${path} has mode ${octalMode(stats.mode)}: the runners (each user's account) cannot read it`,
        fix: `chmod o+r${stats.isDirectory() ? "x" : ""} ${path}`,
      });
    }
  };
  inspect(dir, stat);
  const present: string[] = [];
  for (const name of ["config.toml", "sandbox.toml"]) {
    const file = join(dir, name);
    const fileStat = lstatSync(file, { throwIfNoEntry: false });
    if (!fileStat) continue;
    present.push(name);
    if (!fileStat.isFile())
      problems.push({ detail: `${file} is not a regular file`, fix: `replace ${file} with a regular file` });
    else inspect(file, fileStat);
  }
  if (problems.length === 0) {
    const files = present.length ? present.join(", ") : "no config.toml or sandbox.toml";
    return ok("etc-dir", `${dir} (mode ${octalMode(stat.mode)}, root's; ${files})`);
  }
  // Single-user mode reads /etc/oqto only for an optional sandbox file the loader checks again.
  const report = host.multiUser ? fail : warn;
  return report(
    "etc-dir",
    problems.map((problem) => problem.detail).join("; "),
    problems.map((problem) => problem.fix).join(" && "),
  );
}

const size = (bytes: number): string =>
  bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;

/** Free space where the databases live: the data dir, or its nearest existing parent. */
export function checkDisk(host: DoctorHost): DoctorCheck {
  let dir = host.dataDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  const total = stats.blocks * stats.bsize;
  const fraction = total > 0 ? free / total : 0;
  const detail = `${size(free)} free of ${size(total)} (${Math.round(fraction * 100)}%) on the file system of ${dir}`;
  const fix = `make room on the file system of ${dir}: old backups, journalctl --vacuum-size=200M, apt-get clean`;
  if (free < DISK_FAIL.bytes || fraction < DISK_FAIL.fraction)
    return fail("disk", `${detail}: nearly full`, fix);
  if (free < DISK_WARN.bytes || fraction < DISK_WARN.fraction)
    return warn("disk", `${detail}: running low`, fix);
  return ok("disk", detail);
}
