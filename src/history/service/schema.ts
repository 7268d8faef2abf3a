import type { Database } from "bun:sqlite";

/** Bumped whenever SCHEMA changes shape; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

/**
 * The embedded history schema (HSTRY.md §6.1). `messages.pk` is an explicit INTEGER PRIMARY KEY rather
 * than the implicit rowid because VACUUM may renumber an implicit rowid, which would silently detach the
 * external-content FTS indexes from their rows.
 */
const SCHEMA = `
CREATE TABLE sources (
  id TEXT PRIMARY KEY,
  adapter TEXT NOT NULL,
  path TEXT,
  last_sync_at INTEGER,
  config TEXT
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  source_id TEXT NOT NULL REFERENCES sources(id),
  external_id TEXT NOT NULL,
  readable_id TEXT,
  platform_id TEXT,
  title TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  model TEXT,
  provider TEXT,
  workspace TEXT,
  harness TEXT,
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost_usd REAL,
  metadata TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 0,
  message_count INTEGER NOT NULL DEFAULT 0,
  first_user_message TEXT NOT NULL DEFAULT '',
  parent_conversation_id TEXT,
  parent_message_idx INTEGER,
  fork_type TEXT,
  UNIQUE (source_id, external_id)
);
CREATE INDEX conversations_source_updated ON conversations (source_id, updated_at DESC);
CREATE INDEX conversations_workspace_updated ON conversations (workspace, updated_at DESC);
CREATE INDEX conversations_platform ON conversations (platform_id);
CREATE INDEX conversations_readable ON conversations (readable_id);
CREATE INDEX conversations_parent ON conversations (parent_conversation_id);

CREATE TABLE messages (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  parts_json TEXT NOT NULL,
  created_at INTEGER,
  model TEXT,
  provider TEXT,
  harness TEXT,
  tokens INTEGER,
  cost_usd REAL,
  metadata TEXT NOT NULL DEFAULT '{}',
  sender_json TEXT NOT NULL DEFAULT '',
  client_id TEXT,
  UNIQUE (conversation_id, idx)
);
CREATE INDEX messages_created ON messages (created_at);

CREATE VIRTUAL TABLE messages_fts USING fts5(
  content, content = 'messages', content_rowid = 'pk', tokenize = 'porter unicode61'
);
CREATE VIRTUAL TABLE messages_code_fts USING fts5(
  content, content = 'messages', content_rowid = 'pk', tokenize = "unicode61 tokenchars '_./:'"
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.pk, new.content);
  INSERT INTO messages_code_fts (rowid, content) VALUES (new.pk, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.pk, old.content);
  INSERT INTO messages_code_fts (messages_code_fts, rowid, content) VALUES ('delete', old.pk, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages WHEN old.content IS NOT new.content BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.pk, old.content);
  INSERT INTO messages_code_fts (messages_code_fts, rowid, content) VALUES ('delete', old.pk, old.content);
  INSERT INTO messages_fts (rowid, content) VALUES (new.pk, new.content);
  INSERT INTO messages_code_fts (rowid, content) VALUES (new.pk, new.content);
END;

CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE conversation_tags (
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (conversation_id, tag_id)
);

CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  mime_type TEXT NOT NULL,
  filename TEXT,
  content BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE message_events (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  payload_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX message_events_conversation_idx ON message_events (conversation_id, idx);
`;

/** Creates the schema on an empty DB; refuses a DB written by a newer Oqto instead of guessing. */
export function applySchema(db: Database): void {
  const { user_version: current } = db.query("PRAGMA user_version").get() as { user_version: number };
  if (current === SCHEMA_VERSION) return;
  if (current > SCHEMA_VERSION) {
    throw new Error(`history DB schema version ${current} is newer than this oqto (${SCHEMA_VERSION})`);
  }
  db.transaction(() => {
    db.run(SCHEMA);
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
