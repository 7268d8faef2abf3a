import type { Database } from "bun:sqlite";
import { z } from "zod";
import {
  type LimitScope,
  LimitScope as LimitScopeSchema,
  type LimitsEntry,
  LlmLimits,
} from "../../protocol/llm.ts";

const LimitsRow = z.object({
  scope: LimitScopeSchema,
  subject: z.string(),
  limits: z.string().transform((text, ctx) => {
    const parsed = LlmLimits.safeParse(JSON.parse(text));
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "llm_limits.limits is not a valid limits object" });
      return z.NEVER;
    }
    return parsed.data;
  }),
  updated_at: z.number(),
});

/** Budgets, rate limits and model allowances per user (subject: user id) and per role (subject: role). */
export class LlmLimitsStore {
  constructor(private readonly db: Database) {}

  list(): LimitsEntry[] {
    return this.db
      .query("SELECT scope, subject, limits, updated_at FROM llm_limits ORDER BY scope, subject")
      .all()
      .map((row) => LimitsRow.parse(row));
  }

  get(scope: LimitScope, subject: string): LimitsEntry | null {
    const row = this.db
      .query("SELECT scope, subject, limits, updated_at FROM llm_limits WHERE scope = ? AND subject = ?")
      .get(scope, subject);
    return row === null ? null : LimitsRow.parse(row);
  }

  set(scope: LimitScope, subject: string, limits: LlmLimits, now = Date.now()): LimitsEntry {
    const row = this.db
      .query(
        `INSERT INTO llm_limits (scope, subject, limits, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope, subject) DO UPDATE SET limits = excluded.limits, updated_at = excluded.updated_at
         RETURNING scope, subject, limits, updated_at`,
      )
      .get(scope, subject, JSON.stringify(limits), now);
    return LimitsRow.parse(row);
  }

  /** False when there was nothing to clear. */
  clear(scope: LimitScope, subject: string): boolean {
    return (
      this.db.query("DELETE FROM llm_limits WHERE scope = ? AND subject = ?").run(scope, subject).changes ===
      1
    );
  }
}
