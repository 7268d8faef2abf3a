import type { Database } from "bun:sqlite";
import type { Role, User } from "../../protocol/rest.ts";

/** A platform user as stored, including the secrets that never leave the server. */
export interface UserRecord {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  is_active: boolean;
  /** Token version: bumping it revokes every token issued before. */
  tv: number;
  email: string | null;
  display_name: string | null;
  created_at: number;
  last_login_at: number | null;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  role: Role;
  email?: string;
  displayName?: string;
}

interface UserRow extends Omit<UserRecord, "is_active"> {
  is_active: number;
}

const COLUMNS =
  "id, username, password_hash, role, is_active, tv, email, display_name, created_at, last_login_at";

function fromRow(row: UserRow): UserRecord {
  return { ...row, is_active: row.is_active === 1 };
}

/** The API view of a user (PROTOCOL.md §4.2 `User`): no hash, no token version, absent instead of null. */
export function toPublicUser(user: UserRecord): User {
  return {
    id: user.id,
    username: user.username,
    ...(user.email !== null && { email: user.email }),
    ...(user.display_name !== null && { display_name: user.display_name }),
    role: user.role,
    is_active: user.is_active,
    created_at: user.created_at,
    ...(user.last_login_at !== null && { last_login_at: user.last_login_at }),
  };
}

export class UserStore {
  constructor(private readonly db: Database) {}

  /** Creates a user; null when the username is taken. */
  create(user: NewUser, now = Date.now()): UserRecord | null {
    const inserted = this.db
      .query<UserRow, Record<string, string | number | null>>(
        `INSERT INTO users (id, username, password_hash, role, email, display_name, created_at)
         VALUES ($id, $username, $password_hash, $role, $email, $display_name, $created_at)
         ON CONFLICT (username) DO NOTHING
         RETURNING ${COLUMNS}`,
      )
      .get({
        id: crypto.randomUUID(),
        username: user.username,
        password_hash: user.passwordHash,
        role: user.role,
        email: user.email ?? null,
        display_name: user.displayName ?? null,
        created_at: now,
      });
    return inserted ? fromRow(inserted) : null;
  }

  byId(id: string): UserRecord | null {
    const row = this.db.query<UserRow, [string]>(`SELECT ${COLUMNS} FROM users WHERE id = ?`).get(id);
    return row ? fromRow(row) : null;
  }

  byUsername(username: string): UserRecord | null {
    const row = this.db
      .query<UserRow, [string]>(`SELECT ${COLUMNS} FROM users WHERE username = ?`)
      .get(username);
    return row ? fromRow(row) : null;
  }

  list(): UserRecord[] {
    return this.db
      .query<UserRow, []>(`SELECT ${COLUMNS} FROM users ORDER BY created_at, username`)
      .all()
      .map(fromRow);
  }

  /** Whether the first-admin setup is done (an admin row exists, active or not). */
  adminExists(): boolean {
    return (
      this.db.query<{ one: number }, []>("SELECT 1 AS one FROM users WHERE role = 'admin' LIMIT 1").get() !==
      null
    );
  }

  /** Revokes every token issued to the user so far (they carry the old token version). */
  revokeTokens(id: string): void {
    this.db.query("UPDATE users SET tv = tv + 1 WHERE id = ?").run(id);
  }

  /** Profile fields; null clears one, undefined keeps it. */
  updateProfile(
    id: string,
    fields: { email?: string | null; display_name?: string | null },
  ): UserRecord | null {
    const row = this.db
      .query<UserRow, [number, string | null, number, string | null, string]>(
        `UPDATE users SET email = CASE WHEN ? THEN ? ELSE email END,
                          display_name = CASE WHEN ? THEN ? ELSE display_name END
         WHERE id = ? RETURNING ${COLUMNS}`,
      )
      .get(
        fields.email === undefined ? 0 : 1,
        fields.email ?? null,
        fields.display_name === undefined ? 0 : 1,
        fields.display_name ?? null,
        id,
      );
    return row ? fromRow(row) : null;
  }

  /** A new password revokes the user's tokens. */
  setPassword(id: string, passwordHash: string): boolean {
    return (
      this.db.query("UPDATE users SET password_hash = ?, tv = tv + 1 WHERE id = ?").run(passwordHash, id)
        .changes === 1
    );
  }

  /** Activation or role change; either revokes the user's tokens (a token carries the role). */
  setAccess(id: string, access: { is_active?: boolean; role?: Role }): UserRecord | null {
    const row = this.db
      .query<UserRow, [number | null, string | null, string]>(
        `UPDATE users SET is_active = coalesce(?, is_active), role = coalesce(?, role), tv = tv + 1
         WHERE id = ? RETURNING ${COLUMNS}`,
      )
      .get(access.is_active === undefined ? null : access.is_active ? 1 : 0, access.role ?? null, id);
    return row ? fromRow(row) : null;
  }

  /** How many active admins there are: the last one may not be demoted, deactivated or deleted. */
  activeAdminCount(): number {
    return (
      this.db
        .query<{ n: number }, []>("SELECT count(*) AS n FROM users WHERE role = 'admin' AND is_active = 1")
        .get()?.n ?? 0
    );
  }

  delete(id: string): boolean {
    return this.db.query("DELETE FROM users WHERE id = ?").run(id).changes === 1;
  }

  recordLogin(id: string, now = Date.now()): void {
    this.db.query("UPDATE users SET last_login_at = ? WHERE id = ?").run(now, id);
  }
}
