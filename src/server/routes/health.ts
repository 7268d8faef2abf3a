import type { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";

export interface HealthRouteDeps {
  version: string;
}

/** GET /api/health (public): liveness for load balancers and `oqto status`. */
export function registerHealthRoutes(app: Hono<AppEnv>, { version }: HealthRouteDeps): void {
  app.get("/api/health", (c) => c.json({ status: "ok", version }));
}
