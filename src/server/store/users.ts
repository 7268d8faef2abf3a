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

  recordLogin(id: string, now = Date.now()): void {
    this.db.query("UPDATE users SET last_login_at = ? WHERE id = ?").run(now, id);
  }
}
