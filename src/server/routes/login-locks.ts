import type { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";
import type { AuthRateLimiter } from "../auth/rate-limit.ts";

/** Admin: lifts the login delays failures put on an account, for every client (PROTOCOL.md §4.3). */
export function registerLoginLockRoutes(app: Hono<AppEnv>, limiter: AuthRateLimiter): void {
  app.delete("/api/admin/login-locks/:username", (c) =>
    c.json({ cleared: limiter.clearUsername(c.req.param("username")) }),
  );
}
