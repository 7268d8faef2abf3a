import type { Database } from "bun:sqlite";

/**
 * The platform DB schema, one entry per version: entry N migrates version N to N+1.
 * Entries are append-only; a shipped migration is never edited.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    tv INTEGER NOT NULL DEFAULT 0,
    email TEXT,
    display_name TEXT,
    created_at INTEGER NOT NULL,
    last_login_at INTEGER
  ) STRICT;
  CREATE INDEX users_role ON users (role);

  CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE providers (
    name TEXT PRIMARY KEY,
    api TEXT NOT NULL,
    base_url TEXT NOT NULL,
    api_key TEXT NOT NULL,
    models TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_path TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sessions_user ON sessions (user_id, created_at);
  `,
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER
  ) STRICT;
  CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    action TEXT NOT NULL,
    target TEXT,
    ip TEXT,
    detail TEXT
  ) STRICT;
  CREATE INDEX audit_log_action ON audit_log (action, id);
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  `
  CREATE TABLE invite_codes (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    max_uses INTEGER NOT NULL CHECK (max_uses > 0),
    uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
    note TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
  ) STRICT;
  CREATE INDEX invite_codes_created ON invite_codes (created_at);
  `,
];

function currentVersion(db: Database): number {
  const row = db.query<{ version: number }, []>("SELECT version FROM schema_version").get();
  return row?.version ?? 0;
}

/**
 * Brings the schema to the newest version. Each step runs in an IMMEDIATE transaction that re-reads the
 * version, so `oqto serve` and `oqto user add` starting at the same moment cannot both apply a step.
 */
export function migrate(db: Database, migrations: readonly string[] = MIGRATIONS): number {
  db.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT");
  const newest = migrations.length;
  const step = db.transaction((): boolean => {
    const version = currentVersion(db);
    if (version > newest) {
      throw new Error(
        `the database schema is version ${version}, newer than this oqto understands (${newest})`,
      );
    }
    const sql = migrations[version];
    if (sql === undefined) return false;
    db.run(sql);
    db.run("DELETE FROM schema_version");
    db.query("INSERT INTO schema_version (version) VALUES (?)").run(version + 1);
    return true;
  });
  let applied = true;
  while (applied) applied = step.immediate();
  return currentVersion(db);
}
