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
  `
  -- Provider keys leave the plain column: the gateway keeps them sealed (AES-256-GCM, KeyVault), and no
  -- plaintext copy may outlive this step. Keys stored before it must be entered again.
  ALTER TABLE providers DROP COLUMN api_key;
  ALTER TABLE providers ADD COLUMN api_key_sealed BLOB;

  CREATE TABLE llm_usage (
    user_id TEXT NOT NULL,
    day TEXT NOT NULL,
    session_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    PRIMARY KEY (user_id, day, session_id, provider, model)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX llm_usage_day ON llm_usage (day);

  CREATE TABLE llm_limits (
    scope TEXT NOT NULL CHECK (scope IN ('user', 'role')),
    subject TEXT NOT NULL,
    limits TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
  ) STRICT;
  `,
  `
  -- eavs mode: each user's eavs virtual key. eavs shows the secret only once, so it is kept here, sealed
  -- (KeyVault, the user id as associated data). A key that leaves this table by any path (deactivation, a
  -- user deleted by the admin or by oqto user, a key replaced after a limits change) is queued in
  -- eavs_revocations by a trigger, and stays there until eavs has disabled it.
  CREATE TABLE eavs_keys (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    key_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE eavs_revocations (
    key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    last_error TEXT
  ) STRICT;

  CREATE TRIGGER eavs_keys_removed AFTER DELETE ON eavs_keys BEGIN
    INSERT OR IGNORE INTO eavs_revocations (key_id, user_id, reason, queued_at)
    VALUES (OLD.key_id, OLD.user_id, 'removed', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
  END;

  CREATE TRIGGER eavs_keys_replaced AFTER UPDATE OF key_id ON eavs_keys WHEN OLD.key_id <> NEW.key_id BEGIN
    INSERT OR IGNORE INTO eavs_revocations (key_id, user_id, reason, queued_at)
    VALUES (OLD.key_id, OLD.user_id, 'replaced', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
  END;
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
