import type { Database } from "bun:sqlite";

/** One audit entry as stored; `detail` is JSON. The table refuses UPDATE and DELETE (triggers). */
export interface AuditRecord {
  id: number;
  at: number;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  detail: string | null;
}

export type NewAuditEntry = Omit<AuditRecord, "id" | "at" | "detail"> & { detail?: Record<string, unknown> };

export interface AuditQuery {
  /** Entries older than this id (paging backwards from the newest). */
  before?: number;
  limit: number;
  action?: string;
}

export class AuditLogStore {
  constructor(private readonly db: Database) {}

  append(entry: NewAuditEntry, now = Date.now()): void {
    this.db
      .query(
        "INSERT INTO audit_log (at, actor_id, actor_name, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        now,
        entry.actor_id,
        entry.actor_name,
        entry.action,
        entry.target,
        entry.ip,
        entry.detail ? JSON.stringify(entry.detail) : null,
      );
  }

  /** Newest first. */
  list({ before, limit, action }: AuditQuery): AuditRecord[] {
    return this.db
      .query<AuditRecord, [number, string | null, string | null, number]>(
        `SELECT id, at, actor_id, actor_name, action, target, ip, detail FROM audit_log
         WHERE id < ? AND (? IS NULL OR action = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(before ?? Number.MAX_SAFE_INTEGER, action ?? null, action ?? null, limit);
  }
}
