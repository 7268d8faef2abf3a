import { chownSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** What `oqto backup` writes to `<data dir>/last-backup.json` after each backup; `oqto doctor` reads it. */
export const LastBackupSchema = z.strictObject({
  at: z.iso.datetime({ offset: true }),
  file: z.string().min(1),
  bytes: z.number().int().nonnegative(),
});
export type LastBackup = z.infer<typeof LastBackupSchema>;
export const LAST_BACKUP_FILE = "last-backup.json";

/**
 * Records a finished backup (0600, written beside and renamed over, so a reader never sees half a
 * file). Root's backup of a service install leaves it the data dir owner's, who runs the doctor too.
 */
export function writeLastBackup(dataDir: string, record: LastBackup): void {
  const path = join(dataDir, LAST_BACKUP_FILE);
  const partial = `${path}.partial`;
  writeFileSync(partial, `${JSON.stringify(LastBackupSchema.parse(record))}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const owner = statSync(dataDir);
    chownSync(partial, owner.uid, owner.gid);
  }
  renameSync(partial, path);
}
