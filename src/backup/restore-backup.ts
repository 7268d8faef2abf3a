/**
 * `oqto restore`: a verified backup written into this install's layout. Nothing is changed until
 * the archive passed verification, no server holds the files, and every file that would be
 * replaced is either identical or (with --force) moved aside, never deleted.
 */
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  renameSync,
  statSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { ensureLinuxUser } from "../privileged/linux-users.ts";
import { linuxUserName } from "../protocol/privileged.ts";
import { lookupAccount } from "../shared/linux-account.ts";
import { isSocketAnswering } from "../shared/unix-socket.ts";
import { sha256File } from "./file-digest.ts";
import { processesHolding } from "./in-use.ts";
import {
  accountHistoryPath,
  findUserAccount,
  type InstallLayout,
  installFilePath,
  singleUserRunnerData,
  singleUserRunnerSocket,
} from "./layout.ts";
import { type BackupSummary, DATABASE_ROLES, type ManifestEntry, utcStamp } from "./manifest.ts";
import { RestoreRefused, verifyBackup } from "./verify-backup.ts";

export interface RestoreOptions {
  layout: InstallLayout;
  file: string;
  /** Move existing, different files aside instead of refusing. */
  force: boolean;
  /** Keep this install's config file and sandbox file; restore only the data and the secrets. */
  keepConfig: boolean;
  progress: (line: string) => void;
  now?: Date;
}

export interface RestoreResult {
  summary: BackupSummary;
  written: string[];
  /** Old files kept under a new name (`*.pre-restore-<time>`). */
  movedAside: string[];
  /** Files already identical to the backup's. */
  unchanged: string[];
  /** `oqto_<name>` accounts made for history DBs whose user had none. */
  accountsCreated: string[];
}

interface Placement {
  entry: ManifestEntry;
  path: string;
  /** Who should own the file and the dirs made for it; undefined: whoever runs the restore. */
  owner: { uid: number; gid: number } | undefined;
  /** Directories below which missing ones are made (with `owner`), e.g. a home for `.local/share/oqto`. */
  base: string;
  /** Mode of the directories made: config dirs are readable by all (the runners read the config), the rest private. */
  dirMode: number;
  /** Multi-user: the platform user whose account must exist before the file can be placed. */
  account?: string;
}

const isRoot = () => process.getuid?.() === 0;

function ownerOf(path: string): { uid: number; gid: number } | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? { uid: stat.uid, gid: stat.gid } : undefined;
}

function serviceOwner(layout: InstallLayout): { uid: number; gid: number } | undefined {
  const existing = ownerOf(layout.dataDir);
  if (existing) return existing;
  if (!layout.multiUser) return undefined;
  try {
    return lookupAccount(layout.config.multi_user.service_user);
  } catch {
    // serve --multi-user makes the service user and gives it the data dir at its next start.
    return undefined;
  }
}

function historyPlacement(layout: InstallLayout, entry: ManifestEntry): Placement {
  if (!layout.multiUser) {
    const runner = singleUserRunnerData(layout);
    return {
      entry,
      path: join(runner.dir, "history.db"),
      owner: runner.account,
      base: runner.account?.home ?? dirname(layout.dataDir),
      dirMode: 0o700,
    };
  }
  const owner = entry.owner as string;
  const account = findUserAccount(owner);
  // A missing account is made at placement, with the home useradd will give it.
  const home = account?.home ?? join(layout.config.multi_user.home_base, linuxUserName(owner));
  return {
    entry,
    path: account ? accountHistoryPath(account) : join(home, ".local/share/oqto/history.db"),
    owner: account,
    base: home,
    dirMode: 0o700,
    account: owner,
  };
}

function plan(layout: InstallLayout, entries: ManifestEntry[]): Placement[] {
  return entries.map((entry) => {
    if (entry.role === "history-db") return historyPlacement(layout, entry);
    const path = installFilePath(layout, entry.role);
    if (entry.role === "config" || entry.role === "sandbox")
      return { entry, path, owner: undefined, base: dirname(dirname(path)), dirMode: 0o755 };
    return { entry, path, owner: serviceOwner(layout), base: dirname(layout.dataDir), dirMode: 0o700 };
  });
}

const companions = (placement: Placement) =>
  DATABASE_ROLES.has(placement.entry.role) ? [`${placement.path}-wal`, `${placement.path}-shm`] : [];

/** Identical already (and, for a database, no WAL beside it that SQLite would replay onto the restored file). */
async function isUnchanged(placement: Placement): Promise<boolean> {
  if (companions(placement).some((path) => existsSync(path))) return false;
  return (await sha256File(placement.path)) === placement.entry.sha256;
}

async function refuseWhileRunning(layout: InstallLayout, placements: Placement[]): Promise<void> {
  const holders = processesHolding(
    placements
      .filter((placement) => DATABASE_ROLES.has(placement.entry.role))
      .map((placement) => placement.path),
  );
  const holder = holders[0];
  if (holder)
    throw new RestoreRefused(
      `a server is running on this install: pid ${holder.pid} (${holder.command}) has ${holder.path} open; stop it first (systemctl stop oqto, or end oqto serve)`,
    );
  if (!layout.multiUser && (await isSocketAnswering(singleUserRunnerSocket(layout), 1000)))
    throw new RestoreRefused(
      `a runner answers on ${singleUserRunnerSocket(layout)}: stop the server on this install first`,
    );
}

/** Makes the missing directories between `base` and `dir`, each the owner's. */
function makeDirs(placement: Placement, dir: string): void {
  const { base, owner, dirMode } = placement;
  if (existsSync(dir)) return;
  const parts = relative(base, dir).split("/");
  let path = base;
  mkdirSync(base, { recursive: true, mode: 0o755 });
  for (const part of parts) {
    path = join(path, part);
    if (existsSync(path)) continue;
    mkdirSync(path, { mode: dirMode });
    chmodSync(path, dirMode);
    if (owner && isRoot()) chownSync(path, owner.uid, owner.gid);
  }
}

function moveAside(path: string, stamp: string): string | undefined {
  if (!lstatSync(path, { throwIfNoEntry: false })) return undefined;
  // The -wal and -shm of a database keep their suffix, so the moved-aside copy still opens with them.
  const match = /^(.*?)(-wal|-shm)?$/.exec(path) as RegExpExecArray;
  const aside = `${match[1]}.pre-restore-${stamp}${match[2] ?? ""}`;
  renameSync(path, aside);
  return aside;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { layout, progress } = options;
  const verified = await verifyBackup(options.file, progress);
  try {
    const { manifest } = verified;
    if (manifest.multi_user !== layout.multiUser)
      throw new RestoreRefused(
        `${options.file} is a ${manifest.multi_user ? "multi-user" : "single-user"} backup and this install is ${layout.multiUser ? "multi-user" : "single-user"}: ` +
          "history is kept per Linux account in one and in one database in the other; restore it onto an install of its own kind",
      );
    if (layout.multiUser && !isRoot())
      throw new RestoreRefused(
        "restoring a multi-user install needs root: each history database goes back to its oqto_<name> account",
      );
    const entries = manifest.entries.filter(
      (entry) => !(options.keepConfig && (entry.role === "config" || entry.role === "sandbox")),
    );
    const placements = plan(layout, entries);
    await refuseWhileRunning(layout, placements);
    const unchanged: Placement[] = [];
    const conflicts: Placement[] = [];
    for (const placement of placements) {
      const present = [placement.path, ...companions(placement)].some((path) =>
        lstatSync(path, { throwIfNoEntry: false }),
      );
      if (!present) continue;
      if (lstatSync(placement.path, { throwIfNoEntry: false })?.isFile() && (await isUnchanged(placement)))
        unchanged.push(placement);
      else conflicts.push(placement);
    }
    if (conflicts.length > 0 && !options.force) {
      const list = conflicts
        .slice(0, 4)
        .map((placement) => placement.path)
        .join(", ");
      const more = conflicts.length > 4 ? ` and ${conflicts.length - 4} more` : "";
      throw new RestoreRefused(
        `this install has data the backup would replace: ${list}${more}; nothing was changed. ` +
          "Restore onto a fresh install, or add --force to move those files aside (renamed *.pre-restore-<time>, not deleted)",
      );
    }
    const stamp = utcStamp(options.now ?? new Date());
    const result: RestoreResult = {
      summary: verified.summary,
      written: [],
      movedAside: [],
      unchanged: [],
      accountsCreated: [],
    };
    for (const placement of placements) {
      if (unchanged.includes(placement)) {
        result.unchanged.push(placement.path);
        continue;
      }
      try {
        if (placement.account !== undefined) {
          // The account the helper would make at the user's first request (ensure_user), made now.
          const made = ensureLinuxUser(placement.account, { homeBase: layout.config.multi_user.home_base });
          if (made.created) result.accountsCreated.push(made.account.username);
          placement.owner = made.account;
          placement.path = accountHistoryPath(made.account);
          placement.base = made.account.home;
        }
        place(placement, stamp, verified.staged(placement.entry), result);
      } catch (error) {
        const done =
          result.written.length > 0
            ? `after restoring ${result.written.join(", ")}`
            : "before writing any file";
        throw new Error(
          `stopped at ${placement.path} ${done}: ${(error as Error).message}; every replaced file is kept as *.pre-restore-${stamp}`,
        );
      }
      progress(`restored ${placement.path}`);
    }
    return result;
  } finally {
    verified.cleanup();
  }
}

/** Copies the staged file beside its target, sets owner and mode, moves the old one aside, renames it in. */
function place(placement: Placement, stamp: string, staged: string, result: RestoreResult): void {
  const { path, owner, entry } = placement;
  makeDirs(placement, dirname(path));
  const partial = `${path}.restoring`;
  copyFileSync(staged, partial);
  chmodSync(partial, DATABASE_ROLES.has(entry.role) || entry.role.endsWith("secret") ? 0o600 : entry.mode);
  if (owner && isRoot()) chownSync(partial, owner.uid, owner.gid);
  for (const old of [path, ...companions(placement)]) {
    const aside = moveAside(old, stamp);
    if (aside) result.movedAside.push(aside);
  }
  renameSync(partial, path);
  result.written.push(path);
}
