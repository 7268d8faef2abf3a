import type { Database } from "bun:sqlite";
import { openPrivateDatabase } from "../../shared/sqlite.ts";
import { migrate } from "./migrations.ts";

/** How long a writer waits for another process (serve vs. the `oqto user` CLI) before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Opens (creating if needed) the platform DB and migrates it: it holds password hashes and provider keys. */
export function openDatabase(path: string): Database {
  return openPrivateDatabase(path, { busyTimeoutMs: BUSY_TIMEOUT_MS, prepare: migrate });
}
