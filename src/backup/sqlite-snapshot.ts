import { Database } from "bun:sqlite";

/** As long as the history service waits for a writer: a long write transaction delays the snapshot, it does not fail it. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * Copies a live SQLite database into `target` as one consistent snapshot. `VACUUM INTO` runs in a
 * single read transaction, so it sees exactly one committed state (WAL content included) while the
 * server and the history service keep writing; a file copy could catch pages of two states. Bun's
 * bun:sqlite has no binding for SQLite's backup API (serialize() would hold the whole DB in memory).
 * The connection is read-write only so that, as root, SQLite may create a missing -shm file: it
 * gives such files the database's owner, and the snapshot itself writes nothing to the source.
 */
export function snapshotDatabase(source: string, target: string): void {
  const db = openLive(source);
  try {
    db.run("VACUUM INTO ?", [target]);
  } finally {
    db.close();
  }
}

function openLive(path: string): Database {
  const db = new Database(path, { readwrite: true, create: false, strict: true });
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

/** `PRAGMA integrity_check` of a database file: undefined when sound, else what SQLite found (first lines). */
export function integrityProblem(path: string): string | undefined {
  let db: Database;
  try {
    db = new Database(path, { readonly: true, strict: true });
  } catch (error) {
    return (error as Error).message;
  }
  try {
    const rows = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all();
    const problems = rows.map((row) => row.integrity_check).filter((line) => line !== "ok");
    return problems.length === 0 ? undefined : problems.slice(0, 3).join("; ");
  } catch (error) {
    return (error as Error).message;
  } finally {
    db.close();
  }
}

/** `SELECT count(*)` of each table in a snapshot; a table the file lacks is an error (it is not our database). */
export function countRows<T extends string>(path: string, tables: readonly T[]): Record<T, number> {
  const db = new Database(path, { readonly: true, strict: true });
  try {
    const counts = {} as Record<T, number>;
    for (const table of tables) {
      counts[table] = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM "${table}"`).get()?.n ?? 0;
    }
    return counts;
  } finally {
    db.close();
  }
}

/** The platform users' names, read from the live platform DB (opened as for a snapshot). */
export function platformUsernames(path: string): string[] {
  const db = openLive(path);
  try {
    return db
      .query<{ username: string }, []>("SELECT username FROM users ORDER BY username")
      .all()
      .map((row) => row.username);
  } finally {
    db.close();
  }
}
