import type { Hono } from "hono";
import { audit } from "../accounts/audit.ts";
import type { AppEnv } from "../auth/index.ts";
import type { AuthRateLimiter } from "../auth/rate-limit.ts";
import type { Store } from "../store/index.ts";

/** Admin: lifts the login delays failures put on an account, for every client (PROTOCOL.md §4.3). */
export function registerLoginLockRoutes(app: Hono<AppEnv>, limiter: AuthRateLimiter, store: Store): void {
  app.delete("/api/admin/login-locks/:username", (c) => {
    const username = c.req.param("username");
    const cleared = limiter.clearUsername(username);
    audit(store, c, "admin.login_lock_lift", { target: username, detail: { cleared } });
    return c.json({ cleared });
  });
}
