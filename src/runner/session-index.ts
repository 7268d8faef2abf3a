import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const RUNNER_DB_FILE = "runner.db";

/** What the runner must remember about a session to resume it after a restart. */
export const SessionRecord = z.object({
  session_id: z.string(),
  pi_session_id: z.string().nullable(),
  pi_session_file: z.string().nullable(),
  workspace_path: z.string(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  title: z.string().nullable(),
  created_at: z.number(),
  last_activity: z.number(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  pi_session_id TEXT,
  pi_session_file TEXT,
  workspace_path TEXT NOT NULL,
  provider TEXT,
  model TEXT,
  title TEXT,
  created_at INTEGER NOT NULL,
  last_activity INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_pi_session ON sessions (pi_session_id);
`;
/** Sessions whose messages history has not stored yet; a column added after the first release. */
const HISTORY_DIRTY_COLUMN = "ALTER TABLE sessions ADD COLUMN history_dirty INTEGER NOT NULL DEFAULT 0";

/**
 * Oqto session id → pi session (file), workspace and model, in `runner.db` (bun:sqlite, WAL) in the
 * runner's state dir. Survives runner restarts, so a known session resumes its pi session file.
 */
export class SessionIndex {
  private readonly db: Database;
  private readonly upsertStmt;
  private readonly getStmt;
  private readonly byPiStmt;
  private readonly listStmt;
  private readonly deleteStmt;
  private readonly dirtyStmt;
  private readonly listDirtyStmt;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(stateDir, RUNNER_DB_FILE), { create: true, strict: true });
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA busy_timeout = 5000");
    this.db.run(SCHEMA);
    const columns = this.db.query("SELECT name FROM pragma_table_info('sessions')").all() as Array<{
      name: string;
    }>;
    if (!columns.some((column) => column.name === "history_dirty")) this.db.run(HISTORY_DIRTY_COLUMN);
    this.upsertStmt = this.db.query(
      `INSERT INTO sessions (session_id, pi_session_id, pi_session_file, workspace_path, provider, model, title, created_at, last_activity)
       VALUES ($session_id, $pi_session_id, $pi_session_file, $workspace_path, $provider, $model, $title, $created_at, $last_activity)
       ON CONFLICT (session_id) DO UPDATE SET
         pi_session_id = excluded.pi_session_id, pi_session_file = excluded.pi_session_file,
         workspace_path = excluded.workspace_path, provider = excluded.provider, model = excluded.model,
         title = excluded.title, last_activity = excluded.last_activity`,
    );
    this.getStmt = this.db.query("SELECT * FROM sessions WHERE session_id = ?");
    this.byPiStmt = this.db.query(
      "SELECT * FROM sessions WHERE pi_session_id = ? ORDER BY last_activity DESC LIMIT 1",
    );
    this.listStmt = this.db.query("SELECT * FROM sessions ORDER BY last_activity DESC LIMIT ?");
    this.deleteStmt = this.db.query("DELETE FROM sessions WHERE session_id = ?");
    this.dirtyStmt = this.db.query("UPDATE sessions SET history_dirty = ? WHERE session_id = ?");
    this.listDirtyStmt = this.db.query("SELECT * FROM sessions WHERE history_dirty = 1");
  }

  /** Inserts or updates the record (created_at of an existing row is kept). */
  upsert(record: SessionRecord): void {
    this.upsertStmt.run(record);
  }

  get(sessionId: string): SessionRecord | undefined {
    return parseRow(this.getStmt.get(sessionId));
  }

  /** The Oqto session bound to a pi session id. */
  findByPiSessionId(piSessionId: string): SessionRecord | undefined {
    return parseRow(this.byPiStmt.get(piSessionId));
  }

  /** Most recently active first. */
  list(limit = 1000): SessionRecord[] {
    return this.listStmt.all(limit).map((row) => SessionRecord.parse(row));
  }

  /** Marks that history lacks some of the session's messages (they are in pi's session file). */
  setHistoryDirty(sessionId: string, dirty: boolean): void {
    this.dirtyStmt.run(dirty ? 1 : 0, sessionId);
  }

  /** Sessions marked by setHistoryDirty, to be completed when history is back (runner start). */
  listHistoryDirty(): SessionRecord[] {
    return this.listDirtyStmt.all().map((row) => SessionRecord.parse(row));
  }

  delete(sessionId: string): void {
    this.deleteStmt.run(sessionId);
  }

  close(): void {
    this.db.close();
  }
}

function parseRow(row: unknown): SessionRecord | undefined {
  return row === null || row === undefined ? undefined : SessionRecord.parse(row);
}
