import type { Database } from "bun:sqlite";
import { openPrivateDatabase } from "../../shared/sqlite.ts";
import { applySchema } from "./schema.ts";

/** A writer waits this long for another writer (a second reader/writer process, a backup) before failing. */
const BUSY_TIMEOUT_MS = 30_000;

/** Opens (creating if needed) the history DB: it holds every conversation of the user. */
export function openHistoryDatabase(path: string): Database {
  return openPrivateDatabase(path, { busyTimeoutMs: BUSY_TIMEOUT_MS, prepare: applySchema });
}
