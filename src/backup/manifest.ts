import { z } from "zod";
import { Username } from "../protocol/rest.ts";

/** Bumped when the archive's layout or the manifest's shape changes; restore refuses other versions. */
export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST_MEMBER = "manifest.json";
/** A manifest larger than this is not one of ours. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

export const EntryRole = z.enum([
  "platform-db",
  "history-db",
  "config",
  "sandbox",
  "jwt-secret",
  "key-vault-secret",
]);
export type EntryRole = z.infer<typeof EntryRole>;
/** Roles that are SQLite databases: snapshotted online, integrity-checked before a restore. */
export const DATABASE_ROLES: ReadonlySet<EntryRole> = new Set(["platform-db", "history-db"]);

/** Member names are plain relative paths under `files/`: nothing restore extracts can point elsewhere. */
const Member = z
  .string()
  .regex(/^files\/[a-z0-9_-]+(\/[a-z0-9_-]+)?\.[a-z]+$/, "not a member name of a backup");

export const ManifestEntrySchema = z.strictObject({
  role: EntryRole,
  /** The platform user a history DB belongs to (multi-user); null where the file is the install's. */
  owner: Username.nullable(),
  /** Where the file was on the machine that made the backup (informational: restore uses its own layout). */
  source: z.string().startsWith("/"),
  member: Member,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  /** Permission bits the file had (config files keep theirs; databases and secrets are 0600). */
  mode: z.number().int().min(0).max(0o777),
});
export type ManifestEntry = z.infer<typeof ManifestEntrySchema>;

export const ManifestSchema = z.strictObject({
  format: z.literal("oqto-backup"),
  format_version: z.literal(BACKUP_FORMAT_VERSION),
  oqto_version: z.string().min(1),
  created_at: z.iso.datetime({ offset: true }),
  multi_user: z.boolean(),
  summary: z.strictObject({
    users: z.number().int().nonnegative(),
    sessions: z.number().int().nonnegative(),
    messages: z.number().int().nonnegative(),
  }),
  entries: z
    .array(ManifestEntrySchema)
    .min(1)
    .refine((entries) => new Set(entries.map((entry) => entry.member)).size === entries.length, {
      error: "two entries name the same member",
    })
    .refine((entries) => entries.filter((entry) => entry.role === "platform-db").length === 1, {
      error: "a backup holds exactly one platform database",
    }),
});
export type Manifest = z.infer<typeof ManifestSchema>;
export type BackupSummary = Manifest["summary"];

/** The archive member of an entry: one fixed name per role, history DBs by their owner. */
export function memberName(role: EntryRole, owner: string | null): string {
  switch (role) {
    case "platform-db":
      return "files/oqto.db";
    case "history-db":
      return owner === null ? "files/history.db" : `files/history/${owner}.db`;
    case "config":
      return "files/config.toml";
    case "sandbox":
      return "files/sandbox.toml";
    case "jwt-secret":
      return "files/jwt-secret.txt";
    case "key-vault-secret":
      return "files/provider-keys.secret";
  }
}

/** `20260102T030405Z`: a UTC time that sorts and needs no quoting in a file name. */
export function utcStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}
