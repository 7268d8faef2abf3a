import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LAST_BACKUP_FILE, LastBackupSchema } from "../backup/last-backup.ts";
import { type DoctorCheck, ok, warn } from "./check.ts";
import type { DoctorHost } from "./host.ts";

const STALE_DAYS = 7;
const DAY_MS = 86_400_000;

/** A service install without a recent backup is one disk failure from losing every user's history. */
export function checkBackup(host: DoctorHost, now = Date.now()): DoctorCheck {
  const file = join(host.dataDir, LAST_BACKUP_FILE);
  const backupNow = `oqto backup --out FILE${host.multiUser ? "" : ` --data-dir ${host.dataDir}`}, and schedule it (a daily cron job or systemd timer)`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      if (!host.installed) return ok("backup", `no backup recorded (${file} absent)`);
      return warn("backup", `no backup recorded: ${file} is absent`, backupNow);
    }
    return warn(
      "backup",
      `cannot read ${file}: ${(error as Error).message}`,
      "run oqto doctor as root or as the service user",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = LastBackupSchema.safeParse(raw);
  if (!parsed.success) {
    const why =
      raw === undefined
        ? "not JSON"
        : parsed.error.issues
            .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
            .join("; ");
    return warn(
      "backup",
      `${file} is malformed (${why}), so the last backup is unknown`,
      `make a backup (it rewrites the file): ${backupNow}`,
    );
  }
  const last = parsed.data;
  const age = now - Date.parse(last.at);
  const what = `the last backup, ${last.file} (${last.bytes} bytes), was made ${last.at}`;
  if (age > STALE_DAYS * DAY_MS) {
    return warn(
      "backup",
      `${what}: ${Math.floor(age / DAY_MS)} days ago, more than ${STALE_DAYS}`,
      backupNow,
    );
  }
  return ok("backup", what);
}
