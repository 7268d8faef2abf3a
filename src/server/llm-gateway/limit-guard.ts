import type { LlmLimits, Role } from "../../protocol/index.ts";
import type { Store } from "../store/index.ts";
import { usageDay } from "../store/index.ts";
import { RateWindow } from "./rate-window.ts";

/** Why a request is refused before it reaches the provider; shown to the user as pi's error. */
export interface Refusal {
  status: number;
  code: "model_not_allowed" | "budget_exceeded" | "rate_limited";
  message: string;
  retryAfterS?: number;
}

/** The user's own values over their role's, field by field. */
export function effectiveLimits(store: Store, user: { id: string; role: Role }): LlmLimits {
  const role = store.llmLimits.get("role", user.role)?.limits ?? {};
  const own = store.llmLimits.get("user", user.id)?.limits ?? {};
  return { ...role, ...own };
}

/** `provider/model` against the allowance patterns (exact ids, or a prefix ending in `*`). */
export function modelAllowed(patterns: readonly string[], id: string): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith("*") ? id.startsWith(pattern.slice(0, -1)) : pattern === id,
  );
}

function usd(amount: number): string {
  // Cents, unless the amount is below a cent (small test budgets, cheap models).
  return `$${amount.toFixed(amount === 0 || amount >= 0.01 ? 2 : 4)}`;
}

function untilUtc(next: Date, now: number): string {
  const minutes = Math.max(1, Math.ceil((next.getTime() - now) / 60_000));
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}

/**
 * Model allowances, budgets (per UTC day and month, in USD or tokens) and rate limits (requests and tokens
 * per minute) of each user. Budgets are summed from the usage table, so they hold across restarts; the
 * per-minute windows live in memory (a restart forgives at most one minute).
 */
export class LimitGuard {
  private readonly requests = new RateWindow();
  private readonly tokens = new RateWindow();

  constructor(private readonly store: Store) {}

  /** Undefined when the request may go ahead (and is then counted against the request rate). */
  admit(
    user: { id: string; role: Role },
    modelId: string | undefined,
    now = Date.now(),
  ): Refusal | undefined {
    const limits = effectiveLimits(this.store, user);
    if (modelId !== undefined && limits.models !== undefined && !modelAllowed(limits.models, modelId)) {
      return {
        status: 403,
        code: "model_not_allowed",
        message: `Oqto: the model ${modelId} is not allowed for your account${
          limits.models.length > 0 ? ` (allowed: ${limits.models.join(", ")})` : ""
        }. Pick another model or ask an admin.`,
      };
    }
    const refusal = this.budgetRefusal(user.id, limits, now) ?? this.rateRefusal(user.id, limits, now);
    if (!refusal) this.requests.add(user.id, 1, now);
    return refusal;
  }

  /** Tokens a finished request used, for the tokens-per-minute limit. */
  spent(userId: string, tokens: number, now = Date.now()): void {
    this.tokens.add(userId, tokens, now);
  }

  private budgetRefusal(userId: string, limits: LlmLimits, now: number): Refusal | undefined {
    const today = usageDay(now);
    const date = new Date(now);
    const tomorrow = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1));
    const nextMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
    const periods = [
      {
        name: "daily",
        usd: limits.daily_budget_usd,
        tokens: limits.daily_tokens,
        from: today,
        resets: tomorrow,
      },
      {
        name: "monthly",
        usd: limits.monthly_budget_usd,
        tokens: limits.monthly_tokens,
        from: `${today.slice(0, 8)}01`,
        resets: nextMonth,
      },
    ];
    for (const period of periods) {
      if (period.usd === undefined && period.tokens === undefined) continue;
      const used = this.store.llmUsage.userTotals(userId, period.from, today);
      const resets = `it resets at 00:00 UTC ${period.name === "daily" ? "" : "on the 1st "}(in ${untilUtc(period.resets, now)})`;
      if (period.usd !== undefined && used.cost_usd >= period.usd) {
        return {
          status: 402,
          code: "budget_exceeded",
          message: `Oqto: your ${period.name} budget of ${usd(period.usd)} is used up (${usd(used.cost_usd)} spent); ${resets}.`,
        };
      }
      const tokens =
        used.input_tokens + used.output_tokens + used.cache_read_tokens + used.cache_write_tokens;
      if (period.tokens !== undefined && tokens >= period.tokens) {
        return {
          status: 402,
          code: "budget_exceeded",
          message: `Oqto: your ${period.name} budget of ${period.tokens} tokens is used up (${tokens} used); ${resets}.`,
        };
      }
    }
    return undefined;
  }

  private rateRefusal(userId: string, limits: LlmLimits, now: number): Refusal | undefined {
    const checks = [
      { limit: limits.rpm, window: this.requests, unit: "requests" },
      { limit: limits.tpm, window: this.tokens, unit: "tokens" },
    ];
    for (const { limit, window, unit } of checks) {
      if (limit === undefined) continue;
      const { sum, oldestAt } = window.read(userId, now);
      if (sum < limit) continue;
      const retryAfterS = RateWindow.secondsUntilFree(oldestAt, now);
      return {
        status: 429,
        code: "rate_limited",
        message: `Oqto: your limit of ${limit} ${unit} per minute is reached (${sum} in the last minute); try again in ${retryAfterS} s.`,
        retryAfterS,
      };
    }
    return undefined;
  }
}
