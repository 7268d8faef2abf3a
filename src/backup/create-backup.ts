/**
 * `oqto backup`: consistent snapshots of every database, the config and the secrets, in one
 * gzip'd tar with a manifest that restore verifies. Built in a private staging dir beside the
 * output (same filesystem, not a tmpfs /tmp), then moved into place in one step.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { sha256File } from "./file-digest.ts";
import { writeLastBackup } from "./last-backup.ts";
import {
  accountHistoryPath,
  findUserAccount,
  historyIsExternal,
  type InstallLayout,
  installFilePath,
  singleUserHistoryPath,
} from "./layout.ts";
import {
  BACKUP_FORMAT_VERSION,
  type BackupSummary,
  type EntryRole,
  MANIFEST_MEMBER,
  type Manifest,
  type ManifestEntry,
  memberName,
  utcStamp,
} from "./manifest.ts";
import { countRows, platformUsernames, snapshotDatabase } from "./sqlite-snapshot.ts";
import { createTar } from "./tar.ts";

export class BackupError extends Error {}

export interface BackupOptions {
  layout: InstallLayout;
  /** The archive to write; must not exist. */
  out: string;
  oqtoVersion: string;
  progress: (line: string) => void;
  now?: Date;
}

export interface BackupResult {
  file: string;
  bytes: number;
  summary: BackupSummary;
  /** History DBs there was nothing to take from (no account, never used). */
  skipped: string[];
}

/** `oqto-backup-20260102T030405Z.tar.gz`: sorts by time, no characters a shell would mind. */
export function defaultBackupName(now: Date): string {
  return `oqto-backup-${utcStamp(now)}.tar.gz`;
}

interface Source {
  role: EntryRole;
  owner: string | null;
  path: string;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The history DBs to take, as of now; users without an account or a DB are reported, not fatal. */
function historySources(
  layout: InstallLayout,
  skipped: string[],
  progress: (line: string) => void,
): Source[] {
  if (historyIsExternal(layout)) {
    progress(
      "history is in an external hstry ([hstry] in the config): back it up there; it is not in this backup",
    );
    return [];
  }
  if (!layout.multiUser) {
    const path = singleUserHistoryPath(layout);
    if (existsSync(path)) return [{ role: "history-db", owner: null, path }];
    skipped.push(`${path} (no history yet)`);
    return [];
  }
  const sources: Source[] = [];
  for (const username of platformUsernames(installFilePath(layout, "platform-db"))) {
    const account = findUserAccount(username);
    const path = account && accountHistoryPath(account);
    if (path && existsSync(path)) sources.push({ role: "history-db", owner: username, path });
    else skipped.push(account ? `${username}: ${path} (no history yet)` : `${username}: no Linux account`);
  }
  return sources;
}

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const { layout, out, progress } = options;
  const now = options.now ?? new Date();
  const platformDb = installFilePath(layout, "platform-db");
  if (!existsSync(platformDb))
    throw new BackupError(
      `no platform database at ${platformDb}: is --data-dir (or --config) the install's?`,
    );
  if (existsSync(out)) throw new BackupError(`${out} exists; choose another --out`);
  const stage = mkdtempSync(join(dirname(out), `.${basename(out)}.`));
  try {
    chmodSync(stage, 0o700);
    mkdirSync(join(stage, "files/history"), { recursive: true, mode: 0o700 });
    const skipped: string[] = [];
    // History before the platform DB: every conversation taken then has its owner in the later snapshot.
    const sources: Source[] = [
      ...historySources(layout, skipped, progress),
      { role: "platform-db", owner: null, path: platformDb },
      ...(["config", "sandbox", "jwt-secret", "key-vault-secret"] as const)
        .map((role) => ({ role, owner: null, path: installFilePath(layout, role) }))
        .filter((source) => existsSync(source.path)),
    ];
    const entries: ManifestEntry[] = [];
    const summary: BackupSummary = { users: 0, sessions: 0, messages: 0 };
    for (const source of sources) {
      const member = memberName(source.role, source.owner);
      const staged = join(stage, member);
      const mode = statSync(source.path).mode & 0o777;
      if (source.role === "platform-db" || source.role === "history-db") {
        const what = source.owner
          ? `${source.owner}'s history`
          : source.role === "history-db"
            ? "the history"
            : "the platform database";
        progress(`snapshot of ${what} (${source.path}, ${mib(statSync(source.path).size)})`);
        snapshotDatabase(source.path, staged);
        if (source.role === "platform-db") {
          const counts = countRows(staged, ["users", "sessions"]);
          summary.users = counts.users;
          if (historyIsExternal(layout)) summary.sessions = counts.sessions;
        } else {
          const counts = countRows(staged, ["conversations", "messages"]);
          summary.sessions += counts.conversations;
          summary.messages += counts.messages;
        }
      } else {
        copyFileSync(source.path, staged);
      }
      chmodSync(staged, 0o600);
      entries.push({
        role: source.role,
        owner: source.owner,
        source: source.path,
        member,
        sha256: await sha256File(staged),
        bytes: statSync(staged).size,
        mode,
      });
    }
    const manifest: Manifest = {
      format: "oqto-backup",
      format_version: BACKUP_FORMAT_VERSION,
      oqto_version: options.oqtoVersion,
      created_at: now.toISOString(),
      multi_user: layout.multiUser,
      summary,
      entries,
    };
    writeFileSync(join(stage, MANIFEST_MEMBER), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    progress(`writing ${out}`);
    const archive = join(stage, "archive.tar.gz");
    // Made 0600 before tar writes a byte of it: the archive holds password hashes and the key secret.
    writeFileSync(archive, "", { mode: 0o600 });
    const members = [MANIFEST_MEMBER, ...entries.map((entry) => entry.member)];
    createTar(archive, stage, members);
    chmodSync(archive, 0o600);
    // A hard link refuses to replace a file that appeared meanwhile; then the staged name goes.
    linkSync(archive, out);
    unlinkSync(archive);
    const bytes = statSync(out).size;
    writeLastBackup(layout.dataDir, { at: now.toISOString(), file: out, bytes });
    return { file: out, bytes, summary, skipped };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
