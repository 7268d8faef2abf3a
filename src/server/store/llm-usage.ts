import type { Database } from "bun:sqlite";
import { z } from "zod";
import type { UsageGroup, UsageRow, UsageTotals } from "../../protocol/llm.ts";

/** One metered request, as the gateway records it. */
export interface UsageEntry {
  userId: string;
  sessionId: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  at: number;
}

export interface UsageQuery {
  group: UsageGroup;
  from: string;
  to: string;
  /** Only this user's usage (a user's own report); all users when absent (the admin's). */
  userId?: string;
}

/** The UTC day of `at` as `YYYY-MM-DD`: usage rolls up per UTC day. */
export function usageDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

const SUMS = `SUM(requests) AS requests, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
  SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens,
  SUM(cost_usd) AS cost_usd`;

const Sums = z.object({
  requests: z.number().nullable(),
  input_tokens: z.number().nullable(),
  output_tokens: z.number().nullable(),
  cache_read_tokens: z.number().nullable(),
  cache_write_tokens: z.number().nullable(),
  cost_usd: z.number().nullable(),
});
const GroupedRow = Sums.extend({ key: z.string(), label: z.string().nullable() });

function totals(row: z.infer<typeof Sums>): UsageTotals {
  return {
    requests: row.requests ?? 0,
    input_tokens: row.input_tokens ?? 0,
    output_tokens: row.output_tokens ?? 0,
    cache_read_tokens: row.cache_read_tokens ?? 0,
    cache_write_tokens: row.cache_write_tokens ?? 0,
    cost_usd: row.cost_usd ?? 0,
  };
}

/** SQL for each grouping's key and label; fixed strings, never built from input. */
const GROUPS: Record<UsageGroup, { key: string; label: string }> = {
  user: { key: "u.user_id", label: "users.username" },
  model: { key: "u.provider || '/' || u.model", label: "NULL" },
  day: { key: "u.day", label: "NULL" },
  session: { key: "u.session_id", label: "NULL" },
};

/**
 * LLM usage rolled up per user, UTC day, session and model: one row per combination, so a budget check
 * sums a handful of rows however many requests a day had.
 */
export class LlmUsageStore {
  constructor(private readonly db: Database) {}

  record(entry: UsageEntry): void {
    this.db
      .query(
        `INSERT INTO llm_usage (user_id, day, session_id, provider, model, requests, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, cost_usd)
         VALUES ($user, $day, $session, $provider, $model, 1, $input, $output, $cacheRead, $cacheWrite, $cost)
         ON CONFLICT (user_id, day, session_id, provider, model) DO UPDATE SET
           requests = requests + 1,
           input_tokens = input_tokens + excluded.input_tokens,
           output_tokens = output_tokens + excluded.output_tokens,
           cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
           cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
           cost_usd = cost_usd + excluded.cost_usd`,
      )
      .run({
        user: entry.userId,
        day: usageDay(entry.at),
        session: entry.sessionId,
        provider: entry.provider,
        model: entry.model,
        input: entry.inputTokens,
        output: entry.outputTokens,
        cacheRead: entry.cacheReadTokens,
        cacheWrite: entry.cacheWriteTokens,
        cost: entry.costUsd,
      });
  }

  /** A user's totals over the days `from`..`to` (inclusive). */
  userTotals(userId: string, from: string, to: string): UsageTotals {
    const row = this.db
      .query(`SELECT ${SUMS} FROM llm_usage WHERE user_id = ? AND day BETWEEN ? AND ?`)
      .get(userId, from, to);
    return totals(Sums.parse(row));
  }

  /** Totals of one session (the chat header's figures). */
  sessionTotals(userId: string, sessionId: string): UsageTotals {
    const row = this.db
      .query(`SELECT ${SUMS} FROM llm_usage WHERE user_id = ? AND session_id = ?`)
      .get(userId, sessionId);
    return totals(Sums.parse(row));
  }

  report(query: UsageQuery): { rows: UsageRow[]; total: UsageTotals } {
    const { key, label } = GROUPS[query.group];
    const where = `u.day BETWEEN $from AND $to${query.userId === undefined ? "" : " AND u.user_id = $user"}`;
    const params = {
      from: query.from,
      to: query.to,
      ...(query.userId === undefined ? {} : { user: query.userId }),
    };
    const rows = this.db
      .query(
        `SELECT ${key} AS key, ${label} AS label, ${SUMS.replaceAll("SUM(", "SUM(u.")}
         FROM llm_usage u LEFT JOIN users ON users.id = u.user_id
         WHERE ${where} GROUP BY ${key} ORDER BY ${query.group === "day" ? "key" : "cost_usd DESC, key"}`,
      )
      .all(params)
      .map((raw) => {
        const row = GroupedRow.parse(raw);
        return { key: row.key, ...(row.label === null ? {} : { label: row.label }), ...totals(row) };
      });
    const total = this.db
      .query(`SELECT ${SUMS.replaceAll("SUM(", "SUM(u.")} FROM llm_usage u WHERE ${where}`)
      .get(params);
    return { rows, total: totals(Sums.parse(total)) };
  }
}
