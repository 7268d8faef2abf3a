import type { UsageReport, UsageRow, UsageTotals } from "../../../../src/protocol/index.ts";

/** Usage is kept per UTC day (budgets reset at 00:00 UTC), so the pages count days in UTC too. */
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a moment, in UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

/** The first of the month `day` is in. */
export function monthStart(day: string): string {
  return `${day.slice(0, 8)}01`;
}

/** Every day from `from` to `to`, inclusive (none when `to` is before `from`). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to && days.length < 4000; day = addDays(day, 1)) days.push(day);
  return days;
}

/** All tokens of a row or total, as budgets count them: input, output and both kinds of cache. */
export function totalTokens(totals: UsageTotals): number {
  return totals.input_tokens + totals.output_tokens + totals.cache_read_tokens + totals.cache_write_tokens;
}

/** The chart's columns: each day of the report's range, a day without usage at zero. */
export interface DailySeries {
  days: string[];
  cost: number[];
  tokens: number[];
  requests: number[];
}

export function dailySeries(report: UsageReport): DailySeries {
  const byDay = new Map<string, UsageRow>(report.rows.map((row) => [row.key, row]));
  const days = daysBetween(report.from, report.to);
  return {
    days,
    cost: days.map((day) => byDay.get(day)?.cost_usd ?? 0),
    tokens: days.map((day) => {
      const row = byDay.get(day);
      return row ? totalTokens(row) : 0;
    }),
    requests: days.map((day) => byDay.get(day)?.requests ?? 0),
  };
}
