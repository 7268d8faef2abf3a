import type { Hono } from "hono";
import { UsageQueryParams, type UsageReport } from "../../protocol/llm.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError, parseQuery } from "../http-errors.ts";
import { effectiveLimits } from "../llm-gateway/limit-guard.ts";
import { type Store, usageDay } from "../store/index.ts";

const DEFAULT_DAYS = 30;
const MAX_DAYS = 3660;

function report(store: Store, query: Record<string, string>, userId?: string): UsageReport {
  const params = parseQuery(UsageQueryParams, query);
  const now = Date.now();
  const to = params.to ?? usageDay(now);
  const from = params.from ?? usageDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * 86_400_000);
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  if (!Number.isFinite(span) || span < 0)
    throw new ApiError("BAD_REQUEST", `'from' (${from}) must not be after 'to' (${to})`);
  if (span >= MAX_DAYS) throw new ApiError("BAD_REQUEST", `a report covers at most ${MAX_DAYS} days`);
  const { rows, total } = store.llmUsage.report({
    group: params.group,
    from,
    to,
    ...(userId === undefined ? {} : { userId }),
  });
  return { group: params.group, from, to, rows, total };
}

/** LLM usage: each user's own (`/api/usage`), everyone's for admins (`/api/admin/usage`). */
export function registerUsageRoutes(app: Hono<AppEnv>, store: Store): void {
  app.get("/api/usage", (c) => c.json(report(store, c.req.query(), c.get("user").id)));

  app.get("/api/usage/limits", (c) => {
    const user = c.get("user");
    const today = usageDay(Date.now());
    return c.json({
      limits: effectiveLimits(store, user),
      today: store.llmUsage.userTotals(user.id, today, today),
      this_month: store.llmUsage.userTotals(user.id, `${today.slice(0, 8)}01`, today),
    });
  });

  app.get("/api/admin/usage", (c) => c.json(report(store, c.req.query())));
}
