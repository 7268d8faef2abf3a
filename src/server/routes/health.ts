import type { Hono } from "hono";
import type { HealthResponse } from "../../protocol/rest.ts";
import type { AppEnv } from "../auth/index.ts";

export interface HealthRouteDeps {
  version: string;
  /** Whether each user has a Linux user of their own (the UI says so, and offers registration). */
  multiUser: boolean;
}

/** GET /api/health (public): liveness for load balancers and `oqto status`, and the server's mode. */
export function registerHealthRoutes(app: Hono<AppEnv>, { version, multiUser }: HealthRouteDeps): void {
  app.get("/api/health", (c) =>
    c.json({ status: "ok", version, multi_user: multiUser } satisfies HealthResponse),
  );
}
