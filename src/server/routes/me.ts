import type { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";

/** GET /api/me: the authenticated user (fresh from the DB, see the auth middleware). */
export function registerMeRoutes(app: Hono<AppEnv>): void {
  app.get("/api/me", (c) => c.json(c.var.user));
}
