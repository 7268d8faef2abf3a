import { Database } from "bun:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { applySchema } from "./schema.ts";

/** A writer waits this long for another writer (a second reader/writer process, a backup) before failing. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * Opens (creating if needed) the history DB. The file is created 0600 before SQLite opens it because it
 * holds every conversation of the user; SQLite gives its -wal/-shm files the same mode.
 */
export function openHistoryDatabase(path: string): Database {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path, { create: true, strict: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.run("PRAGMA foreign_keys = ON");
    db.run("PRAGMA synchronous = NORMAL");
    applySchema(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
