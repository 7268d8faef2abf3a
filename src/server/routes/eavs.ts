import type { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";
import { ApiError } from "../http-errors.ts";
import type { EavsBackend } from "../llm-gateway/eavs-backend.ts";

/**
 * The eavs admin views under /api/admin/eavs (admin-only by the namespace's guard). Without `[eavs]` they
 * answer 409. `status` never calls eavs, so it answers (and shows what failed) while eavs is down;
 * `quotas` relays eavs' `GET /admin/quotas` (503 when eavs is unreachable, 502 when it refuses).
 */
export function registerEavsRoutes(app: Hono<AppEnv>, eavs: EavsBackend | undefined): void {
  const configured = (): EavsBackend => {
    if (eavs) return eavs;
    throw new ApiError(
      "CONFLICT",
      "eavs is not configured: this server uses its own providers (add an [eavs] table to the config to use eavs)",
    );
  };

  app.get("/api/admin/eavs/status", (c) => c.json(configured().status()));

  app.get("/api/admin/eavs/quotas", async (c) => c.json(await configured().quotas()));
}
