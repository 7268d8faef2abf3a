import type { Hono } from "hono";
import { LimitScope, LlmLimits, Role } from "../../protocol/index.ts";
import { audit } from "../accounts/audit.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import type { Store } from "../store/index.ts";

/** The scope and subject of a limits URL, checked: a role that exists, or a user that does. */
function subjectOf(store: Store, scopeParam: string, subject: string) {
  const scope = LimitScope.safeParse(scopeParam);
  if (!scope.success)
    throw new ApiError("BAD_REQUEST", `the scope must be 'user' or 'role', not '${scopeParam}'`);
  if (scope.data === "role" && !Role.safeParse(subject).success) {
    throw new ApiError("NOT_FOUND", `no role named '${subject}' (roles: ${Role.options.join(", ")})`);
  }
  if (scope.data === "user" && !store.users.byId(subject))
    throw new ApiError("NOT_FOUND", `no user with id '${subject}'`);
  return scope.data;
}

/**
 * Admin budgets, rate limits and model allowances per user and per role (`/api/admin/limits`).
 * `onLimitsChanged` runs after each committed change (eavs mode: the affected users' virtual keys are made
 * anew with the new permissions); it must return at once and not throw.
 */
export function registerLimitRoutes(
  app: Hono<AppEnv>,
  store: Store,
  onLimitsChanged: (scope: LimitScope, subject: string) => void = () => {},
): void {
  app.get("/api/admin/limits", (c) => c.json(store.llmLimits.list()));

  app.put("/api/admin/limits/:scope/:subject", async (c) => {
    const subject = c.req.param("subject");
    const scope = subjectOf(store, c.req.param("scope"), subject);
    const limits = await parseJsonBody(c.req.raw, LlmLimits);
    const entry = store.llmLimits.set(scope, subject, limits);
    audit(store, c, "admin.limits_set", { target: `${scope}:${subject}`, detail: limits });
    onLimitsChanged(scope, subject);
    return c.json(entry);
  });

  app.delete("/api/admin/limits/:scope/:subject", (c) => {
    const subject = c.req.param("subject");
    const scope = subjectOf(store, c.req.param("scope"), subject);
    if (!store.llmLimits.clear(scope, subject))
      throw new ApiError("NOT_FOUND", `no limits are set for ${scope} '${subject}'`);
    audit(store, c, "admin.limits_clear", { target: `${scope}:${subject}` });
    onLimitsChanged(scope, subject);
    return c.body(null, 204);
  });
}
