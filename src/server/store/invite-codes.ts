import type { Database } from "bun:sqlite";

/** An invite code as stored: only the SHA-256 of the code and its first characters. */
export interface InviteCodeRecord {
  id: string;
  prefix: string;
  max_uses: number;
  uses: number;
  note: string | null;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

const COLUMNS = "id, prefix, max_uses, uses, note, created_by, created_at, expires_at, revoked_at";

export class InviteCodeStore {
  constructor(private readonly db: Database) {}

  create(
    invite: Omit<InviteCodeRecord, "id" | "uses" | "revoked_at"> & { code_hash: string },
  ): InviteCodeRecord {
    const row = this.db
      .query<InviteCodeRecord, Record<string, string | number | null>>(
        `INSERT INTO invite_codes (id, code_hash, prefix, max_uses, note, created_by, created_at, expires_at)
         VALUES ($id, $code_hash, $prefix, $max_uses, $note, $created_by, $created_at, $expires_at)
         RETURNING ${COLUMNS}`,
      )
      .get({ ...invite, id: crypto.randomUUID() });
    if (!row) throw new Error("invite insert returned nothing");
    return row;
  }

  /** Newest first. */
  list(): InviteCodeRecord[] {
    return this.db
      .query<InviteCodeRecord, []>(`SELECT ${COLUMNS} FROM invite_codes ORDER BY created_at DESC, id`)
      .all();
  }

  /**
   * Takes one use of the code in a single statement, so two registrations racing for the last
   * use cannot both get it. Null when the code is unknown, used up, expired or revoked.
   */
  consume(codeHash: string, now = Date.now()): InviteCodeRecord | null {
    return this.db
      .query<InviteCodeRecord, [string, number]>(
        `UPDATE invite_codes SET uses = uses + 1
         WHERE code_hash = ? AND uses < max_uses AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > ?)
         RETURNING ${COLUMNS}`,
      )
      .get(codeHash, now);
  }

  /** Gives a consumed use back (the account it was for could not be created). */
  release(id: string): void {
    this.db.query("UPDATE invite_codes SET uses = uses - 1 WHERE id = ? AND uses > 0").run(id);
  }

  /** Revokes the code (kept for the record); false when there is no such code or it was revoked already. */
  revoke(id: string, now = Date.now()): boolean {
    return (
      this.db.query("UPDATE invite_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, id)
        .changes === 1
    );
  }
}
