import { Database } from "bun:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Opens (creating if needed) a SQLite file that holds private data (password hashes, provider keys,
 * conversations). The file is created 0600 before SQLite touches it, so its -wal/-shm files get the
 * same mode; WAL, foreign keys, NORMAL sync. `prepare` migrates the schema; on failure the DB is closed.
 */
export function openPrivateDatabase(
  path: string,
  options: { busyTimeoutMs: number; prepare: (db: Database) => void },
): Database {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path, { create: true, strict: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    db.run(`PRAGMA busy_timeout = ${options.busyTimeoutMs}`);
    db.run("PRAGMA foreign_keys = ON");
    db.run("PRAGMA synchronous = NORMAL");
    options.prepare(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
