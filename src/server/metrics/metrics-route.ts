import { timingSafeEqual } from "node:crypto";
import type { Hono } from "hono";
import type { AppEnv, Auth } from "../auth/index.ts";
import { ApiError } from "../http-errors.ts";
import { EXPOSITION_CONTENT_TYPE, exposition, type MetricFamily } from "./prometheus-text.ts";

export interface MetricsRouteDeps {
  auth: Auth;
  /** `[server] metrics_token_file`'s token; undefined: admins only. */
  token: string | undefined;
  collect: () => Promise<MetricFamily[]>;
}

function presentsToken(req: Request, token: string | undefined): boolean {
  if (token === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.get("authorization") ?? "");
  const presented = Buffer.from(match?.[1] ?? "");
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/**
 * `GET /api/metrics`: Prometheus text for the metrics token or an admin. Registered among the public
 * routes, before the auth middleware, which would refuse the metrics token as an unknown bearer.
 */
export function registerMetricsRoute(app: Hono<AppEnv>, deps: MetricsRouteDeps): void {
  app.get("/api/metrics", async (c) => {
    if (!presentsToken(c.req.raw, deps.token)) {
      const identity = await deps.auth.identify(c.req.raw);
      if (!identity)
        throw new ApiError("UNAUTHORIZED", "the metrics need the metrics token or an admin's credentials");
      if (identity.user.role !== "admin") throw new ApiError("FORBIDDEN", "administrator role required");
    }
    return c.body(exposition(await deps.collect()), 200, {
      "content-type": EXPOSITION_CONTENT_TYPE,
      "cache-control": "no-store",
    });
  });
}
