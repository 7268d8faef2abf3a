import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Config } from "../config/schema.ts";
import type { AccountDeps } from "./accounts/account-deps.ts";
import { registerAdminUserRoutes } from "./accounts/admin-user-routes.ts";
import { registerApiKeyRoutes } from "./accounts/api-key-routes.ts";
import { registerAuditRoutes } from "./accounts/audit-routes.ts";
import { registerInviteRoutes } from "./accounts/invite-routes.ts";
import { registerMeRoutes } from "./accounts/me-routes.ts";
import { registerRegistrationRoute } from "./accounts/register-route.ts";
import { type AppEnv, type Auth, requireAdmin } from "./auth/index.ts";
import { ApiError, errorResponse } from "./http-errors.ts";
import type { EavsBackend } from "./llm-gateway/eavs-backend.ts";
import type { ProviderCatalog } from "./llm-gateway/provider-catalog.ts";
import { registerMetricsRoute } from "./metrics/metrics-route.ts";
import type { MetricFamily } from "./metrics/prometheus-text.ts";
import { registerOpenApiRoute } from "./openapi/openapi-route.ts";
import type { AccountProvisioner } from "./privileged/helper-client.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerEavsRoutes } from "./routes/eavs.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerLimitRoutes } from "./routes/llm-limits.ts";
import { registerUsageRoutes } from "./routes/llm-usage.ts";
import { registerLoginLockRoutes } from "./routes/login-locks.ts";
import { registerProviderRoutes } from "./routes/providers.ts";
import type { Store } from "./store/index.ts";
import type { UiAssets } from "./ui/ui-assets.ts";
import { isApiPath, registerUiRoutes } from "./ui/ui-routes.ts";

export type { AppEnv, AuthUser } from "./auth/index.ts";

export interface AppDeps {
  config: Config;
  store: Store;
  auth: Auth;
  version: string;
  /** The LLM providers, keys sealed at rest. */
  catalog: ProviderCatalog;
  /** eavs mode: the providers are eavs', and each user's virtual key follows their account and limits. */
  eavs?: EavsBackend;
  /** Called after every provider change (the server pushes models.json to the runners). Must not throw. */
  onProvidersChanged: () => void;
  /** Closes every open WebSocket of a user whose credentials were just revoked. */
  closeSocketsOf: (userId: string) => void;
  /** Multi-user mode: the privileged helper's accounts (registration is refused without it). */
  provisioner?: AccountProvisioner;
  /** Multi-user mode: stops a user's runner (deactivation, deletion). */
  releaseRunner?: (userId: string) => Promise<void>;
  /** Registered after the auth middleware: every /api route added here requires authentication. */
  extraRoutes?: (app: Hono<AppEnv>) => void;
  /** The built UI, served for every GET outside /api; without it such paths are 404. */
  ui?: UiAssets;
  /** `GET /api/metrics`: the metrics token (undefined: admins only) and the scrape. */
  metrics?: { token: string | undefined; collect: () => Promise<MetricFamily[]> };
}

/** The `oqto serve` HTTP app: REST API with JSON errors, auth on everything but the public routes. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Every API answer: nothing may frame, sniff or script it; routes that set their own (file
  // bytes: a CSP sandbox) keep theirs.
  app.use(
    "*",
    secureHeaders({
      overwrite: false,
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      xFrameOptions: "DENY",
      referrerPolicy: "no-referrer",
      crossOriginOpenerPolicy: "same-origin",
      crossOriginResourcePolicy: "same-origin",
      strictTransportSecurity: "max-age=31536000; includeSubDomains",
    }),
  );
  app.onError((error) => {
    if (error instanceof ApiError) return error.toResponse();
    console.error("unhandled error in request:", error);
    return errorResponse("INTERNAL_ERROR", "internal server error");
  });
  app.notFound((c) =>
    isApiPath(c.req.path)
      ? errorResponse("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)
      : c.text("404 Not Found", 404),
  );

  // Public routes come first: a handler that responds ends the chain before the auth middleware runs.
  registerHealthRoutes(app, { version: deps.version, multiUser: deps.provisioner !== undefined });
  registerOpenApiRoute(app, deps.version);
  const accounts: AccountDeps = {
    config: deps.config,
    store: deps.store,
    auth: deps.auth,
    closeSocketsOf: deps.closeSocketsOf,
    ...(deps.provisioner && { provisioner: deps.provisioner }),
    ...(deps.releaseRunner && { releaseRunner: deps.releaseRunner }),
    ...(deps.eavs && { llmKeys: deps.eavs.keys }),
  };
  registerAuthRoutes(app, accounts);
  registerRegistrationRoute(app, accounts);
  // Its own authorization (the metrics token or an admin): the middleware would refuse the token.
  if (deps.metrics) registerMetricsRoute(app, { auth: deps.auth, ...deps.metrics });

  app.use("/api/*", deps.auth.middleware);
  // The whole admin namespace is admin-only, including routes added later.
  app.use("/api/admin/*", requireAdmin);

  registerMeRoutes(app, accounts);
  registerApiKeyRoutes(app, accounts);
  registerAdminUserRoutes(app, accounts);
  registerAuditRoutes(app, deps.store);
  registerInviteRoutes(app, deps.store);
  registerProviderRoutes(app, {
    store: deps.store,
    catalog: deps.catalog,
    onProvidersChanged: deps.onProvidersChanged,
    ...(deps.eavs && { eavs: deps.eavs }),
  });
  registerEavsRoutes(app, deps.eavs);
  registerUsageRoutes(app, deps.store);
  const eavsKeys = deps.eavs?.keys;
  registerLimitRoutes(
    app,
    deps.store,
    eavsKeys && ((scope, subject) => eavsKeys.limitsChanged(scope, subject)),
  );
  registerLoginLockRoutes(app, deps.auth.rateLimiter, deps.store);
  deps.extraRoutes?.(app);
  if (deps.ui) registerUiRoutes(app, deps.ui);
  return app;
}
