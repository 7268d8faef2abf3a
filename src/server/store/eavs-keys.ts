import type { Database } from "bun:sqlite";

/** A user's eavs virtual key as stored: the secret sealed (KeyVault), never in plain text. */
export interface EavsKeyRecord {
  user_id: string;
  /** eavs' readable id (`cold-lamp`), for `DELETE /admin/keys/{id}`. */
  key_id: string;
  key_sealed: Uint8Array;
  created_at: number;
}

/** A key that left `eavs_keys` and that eavs has not yet confirmed disabled. */
export interface EavsRevocationRecord {
  key_id: string;
  /** The user it belonged to (who may be deleted by now). */
  user_id: string;
  /** `removed` (deactivation, deletion), `replaced` (new limits) or `orphaned` (made but never stored). */
  reason: string;
  queued_at: number;
  /** Why the last attempt failed; null before the first. */
  last_error: string | null;
}

/**
 * The eavs virtual keys of the users (one each) and the queue of keys still to disable in eavs. The queue
 * is filled by triggers (migrations.ts), so a key removed by any path, `oqto user delete` included, is
 * never forgotten while it is still live in eavs.
 */
export class EavsKeyStore {
  constructor(private readonly db: Database) {}

  get(userId: string): EavsKeyRecord | null {
    return this.db
      .query<EavsKeyRecord, [string]>(
        "SELECT user_id, key_id, key_sealed, created_at FROM eavs_keys WHERE user_id = ?",
      )
      .get(userId);
  }

  list(): EavsKeyRecord[] {
    return this.db
      .query<EavsKeyRecord, []>(
        "SELECT user_id, key_id, key_sealed, created_at FROM eavs_keys ORDER BY created_at, user_id",
      )
      .all();
  }

  /** Stores the user's key; a key it replaces is queued for revocation. Throws when the user is gone. */
  put(userId: string, keyId: string, sealed: Uint8Array, now = Date.now()): void {
    this.db
      .query(
        `INSERT INTO eavs_keys (user_id, key_id, key_sealed, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET
           key_id = excluded.key_id, key_sealed = excluded.key_sealed, created_at = excluded.created_at`,
      )
      .run(userId, keyId, sealed, now);
  }

  /** Removes the user's key (queued for revocation); false when there was none. */
  remove(userId: string): boolean {
    return this.db.query("DELETE FROM eavs_keys WHERE user_id = ?").run(userId).changes === 1;
  }

  /** Removes the keys of deactivated users (changed by `oqto user` while serve was not watching). */
  removeInactive(): number {
    return this.db
      .query("DELETE FROM eavs_keys WHERE user_id IN (SELECT id FROM users WHERE is_active = 0)")
      .run().changes;
  }

  /** Queues a key that never made it into `eavs_keys` (its user vanished while eavs made it). */
  queueRevocation(keyId: string, userId: string, reason: string, now = Date.now()): void {
    this.db
      .query(
        "INSERT OR IGNORE INTO eavs_revocations (key_id, user_id, reason, queued_at) VALUES (?, ?, ?, ?)",
      )
      .run(keyId, userId, reason, now);
  }

  pendingRevocations(): EavsRevocationRecord[] {
    return this.db
      .query<EavsRevocationRecord, []>(
        "SELECT key_id, user_id, reason, queued_at, last_error FROM eavs_revocations ORDER BY queued_at, key_id",
      )
      .all();
  }

  /** eavs disabled the key (or never knew it). */
  revoked(keyId: string): void {
    this.db.query("DELETE FROM eavs_revocations WHERE key_id = ?").run(keyId);
  }

  revocationFailed(keyId: string, error: string): void {
    this.db.query("UPDATE eavs_revocations SET last_error = ? WHERE key_id = ?").run(error, keyId);
  }
}
