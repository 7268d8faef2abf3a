import type { Database } from "bun:sqlite";

/** A personal API key as stored: only the SHA-256 of the key and its first characters. */
export interface ApiKeyRecord {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

const COLUMNS = "id, user_id, name, prefix, created_at, expires_at, last_used_at";

export class ApiKeyStore {
  constructor(private readonly db: Database) {}

  create(key: Omit<ApiKeyRecord, "id" | "last_used_at"> & { key_hash: string }): ApiKeyRecord {
    const row = this.db
      .query<ApiKeyRecord, Record<string, string | number | null>>(
        `INSERT INTO api_keys (id, user_id, name, key_hash, prefix, created_at, expires_at)
         VALUES ($id, $user_id, $name, $key_hash, $prefix, $created_at, $expires_at)
         RETURNING ${COLUMNS}`,
      )
      .get({ ...key, id: crypto.randomUUID() });
    if (!row) throw new Error("api key insert returned nothing");
    return row;
  }

  listFor(userId: string): ApiKeyRecord[] {
    return this.db
      .query<ApiKeyRecord, [string]>(
        `SELECT ${COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at, id`,
      )
      .all(userId);
  }

  /** The key with this hash if it has not expired, its last use recorded in the same statement. */
  use(keyHash: string, now = Date.now()): ApiKeyRecord | null {
    return this.db
      .query<ApiKeyRecord, [number, string, number]>(
        `UPDATE api_keys SET last_used_at = ?
         WHERE key_hash = ? AND (expires_at IS NULL OR expires_at > ?)
         RETURNING ${COLUMNS}`,
      )
      .get(now, keyHash, now);
  }

  /** Whether the key still exists and has not expired (an open WebSocket re-checks its key). */
  isLive(id: string, now = Date.now()): boolean {
    return (
      this.db
        .query("SELECT 1 FROM api_keys WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)")
        .get(id, now) !== null
    );
  }

  /** Deletes one of the user's keys; false when that user has no such key. */
  delete(userId: string, id: string): boolean {
    return this.db.query("DELETE FROM api_keys WHERE user_id = ? AND id = ?").run(userId, id).changes === 1;
  }

  deleteAllFor(userId: string): number {
    return this.db.query("DELETE FROM api_keys WHERE user_id = ?").run(userId).changes;
  }
}
