import type { Database } from "bun:sqlite";

/** Which platform user owns an agent session: the mux authorizes every session frame against this. */
export interface SessionRecord {
  session_id: string;
  user_id: string;
  workspace_path: string;
  created_at: number;
}

export interface SessionClaim extends SessionRecord {
  /** True when this call recorded the session; false when it already had an owner (maybe another user). */
  claimed: boolean;
}

const COLUMNS = "session_id, user_id, workspace_path, created_at";

export class SessionStore {
  constructor(private readonly db: Database) {}

  /**
   * Records `sessionId` as owned by `userId`, or returns the existing record untouched. Callers must compare
   * `user_id` with the requesting user: a session id chosen by one user can never be taken over by another.
   */
  claimSession(sessionId: string, userId: string, workspacePath: string, now = Date.now()): SessionClaim {
    const inserted = this.db
      .query<SessionRecord, [string, string, string, number]>(
        `INSERT INTO sessions (session_id, user_id, workspace_path, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (session_id) DO NOTHING
         RETURNING ${COLUMNS}`,
      )
      .get(sessionId, userId, workspacePath, now);
    if (inserted) return { ...inserted, claimed: true };
    const existing = this.sessionRecord(sessionId);
    if (!existing) throw new Error(`session ${sessionId} vanished while being claimed`);
    return { ...existing, claimed: false };
  }

  /** The owning user's id, or null for a session nobody has claimed. */
  sessionOwner(sessionId: string): string | null {
    return this.sessionRecord(sessionId)?.user_id ?? null;
  }

  /** The user's sessions, newest first. */
  listUserSessions(userId: string): SessionRecord[] {
    return this.db
      .query<SessionRecord, [string]>(
        `SELECT ${COLUMNS} FROM sessions WHERE user_id = ? ORDER BY created_at DESC, session_id`,
      )
      .all(userId);
  }

  /** The record of a claimed session, or null. */
  sessionRecord(sessionId: string): SessionRecord | null {
    return this.db
      .query<SessionRecord, [string]>(`SELECT ${COLUMNS} FROM sessions WHERE session_id = ?`)
      .get(sessionId);
  }
}
