/**
 * Restore's first step: the whole archive is unpacked into a private staging dir and checked
 * (manifest schema, every member's size and sha256, every database's integrity) before anything
 * on the install is touched.
 */
import { lstatSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256File } from "./file-digest.ts";
import {
  type BackupSummary,
  DATABASE_ROLES,
  MANIFEST_MAX_BYTES,
  MANIFEST_MEMBER,
  type Manifest,
  type ManifestEntry,
  ManifestSchema,
} from "./manifest.ts";
import { countRows, integrityProblem } from "./sqlite-snapshot.ts";
import { extractTar, listTar, TarError } from "./tar.ts";

/** A backup restore will not use, or an install it will not write over; the message says why. */
export class RestoreRefused extends Error {}

export interface VerifiedBackup {
  manifest: Manifest;
  /** Counted in the staged databases themselves. */
  summary: BackupSummary;
  /** The staged copy of an entry. */
  staged(entry: ManifestEntry): string;
  cleanup(): void;
}

function readManifest(file: string, path: string): Manifest {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat?.isFile() || stat.size > MANIFEST_MAX_BYTES)
    throw new RestoreRefused(
      `${file} is not an Oqto backup: its ${MANIFEST_MEMBER} is not a small plain file`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new RestoreRefused(`${file} is not an Oqto backup: its ${MANIFEST_MEMBER} is not JSON`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new RestoreRefused(`${file} has an invalid manifest (${why})`);
  }
  return parsed.data;
}

async function checkEntry(file: string, entry: ManifestEntry, staged: string): Promise<void> {
  const where = `${file}: ${entry.member}`;
  const stat = lstatSync(staged, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new RestoreRefused(`${where} is missing or not a plain file`);
  if (stat.size !== entry.bytes)
    throw new RestoreRefused(
      `${where} has ${stat.size} bytes, the manifest says ${entry.bytes} (truncated or corrupt)`,
    );
  if ((await sha256File(staged)) !== entry.sha256)
    throw new RestoreRefused(`${where} does not match its sha256 in the manifest (corrupt)`);
  if (DATABASE_ROLES.has(entry.role)) {
    const problem = integrityProblem(staged);
    if (problem) throw new RestoreRefused(`${where} fails SQLite's integrity check: ${problem}`);
  }
}

export async function verifyBackup(file: string, progress: (line: string) => void): Promise<VerifiedBackup> {
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new RestoreRefused(`${file} is not a file`);
  progress(`verifying ${file} (${stat.size} bytes)`);
  const stage = mkdtempSync(join(tmpdir(), "oqto-restore-"));
  const cleanup = () => rmSync(stage, { recursive: true, force: true });
  try {
    let members: string[];
    try {
      members = listTar(file);
    } catch (error) {
      if (!(error instanceof TarError)) throw error;
      throw new RestoreRefused(
        `${file} is not a readable backup archive (truncated or corrupt?): ${error.message}`,
      );
    }
    if (!members.includes(MANIFEST_MEMBER))
      throw new RestoreRefused(`${file} is not an Oqto backup: no ${MANIFEST_MEMBER}`);
    extractTar(file, stage, [MANIFEST_MEMBER]);
    const manifest = readManifest(file, join(stage, MANIFEST_MEMBER));
    const expected = [MANIFEST_MEMBER, ...manifest.entries.map((entry) => entry.member)].sort();
    if (JSON.stringify([...members].sort()) !== JSON.stringify(expected))
      throw new RestoreRefused(`${file} holds other files than its manifest lists (corrupt?)`);
    extractTar(
      file,
      stage,
      manifest.entries.map((entry) => entry.member),
    );
    const summary: BackupSummary = { users: 0, sessions: 0, messages: 0 };
    for (const entry of manifest.entries) {
      const staged = join(stage, entry.member);
      await checkEntry(file, entry, staged);
      try {
        if (entry.role === "platform-db") summary.users = countRows(staged, ["users"]).users;
        if (entry.role === "history-db") {
          const counts = countRows(staged, ["conversations", "messages"]);
          summary.sessions += counts.conversations;
          summary.messages += counts.messages;
        }
      } catch (error) {
        throw new RestoreRefused(
          `${file}: ${entry.member} is not an Oqto ${entry.role}: ${(error as Error).message}`,
        );
      }
    }
    if (!manifest.entries.some((entry) => entry.role === "history-db"))
      summary.sessions = manifest.summary.sessions;
    progress(
      `verified ${manifest.entries.length} files, made ${manifest.created_at} by oqto ${manifest.oqto_version}`,
    );
    return { manifest, summary, staged: (entry) => join(stage, entry.member), cleanup };
  } catch (error) {
    cleanup();
    if (error instanceof TarError) throw new RestoreRefused(`${file} cannot be unpacked: ${error.message}`);
    throw error;
  }
}
