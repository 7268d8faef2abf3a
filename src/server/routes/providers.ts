import type { Hono } from "hono";
import { type Provider, ProviderBody } from "../../protocol/rest.ts";
import { audit } from "../accounts/audit.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import type { ProviderRecord, Store } from "../store/index.ts";

export interface ProviderRouteDeps {
  store: Store;
  /**
   * Called after every committed change, so that the users' pi models.json can be regenerated. It must not
   * throw: the change is already saved.
   */
  onProvidersChanged: () => void;
}

/** pi runs an apiKey that starts with "!" as a shell command in every user's runner; a pasted key never does. */
const ProviderInput = ProviderBody.refine((body) => !body.api_key.startsWith("!"), {
  path: ["api_key"],
  message: "must not start with '!' (pi would run it as a shell command)",
});

/** The API view: never the key itself. */
function toApiProvider(provider: ProviderRecord): Provider {
  return {
    name: provider.name,
    api: provider.api,
    base_url: provider.base_url,
    models: provider.models,
    has_api_key: provider.api_key.length > 0,
    created_at: provider.created_at,
    updated_at: provider.updated_at,
  };
}

function notFound(name: string): ApiError {
  return new ApiError("NOT_FOUND", `no provider named '${name}'`);
}

/** Admin provider CRUD under /api/admin/providers (the app restricts /api/admin/* to admins). */
export function registerProviderRoutes(
  app: Hono<AppEnv>,
  { store, onProvidersChanged }: ProviderRouteDeps,
): void {
  app.get("/api/admin/providers", (c) => c.json(store.providers.list().map(toApiProvider)));

  app.post("/api/admin/providers", async (c) => {
    const body = await parseJsonBody(c.req.raw, ProviderInput);
    const created = store.providers.insert(body);
    if (!created) throw new ApiError("CONFLICT", `a provider named '${body.name}' already exists`);
    onProvidersChanged();
    audit(store, c, "admin.provider_create", { target: body.name });
    return c.json(toApiProvider(created), 201);
  });

  app.put("/api/admin/providers/:name", async (c) => {
    const name = c.req.param("name");
    const body = await parseJsonBody(c.req.raw, ProviderInput);
    if (body.name !== name) {
      throw new ApiError(
        "BAD_REQUEST",
        `the body names provider '${body.name}' but the URL names '${name}'`,
        {
          issues: [{ path: "name", code: "custom", message: "must match the provider name in the URL" }],
        },
      );
    }
    const updated = store.providers.update(body);
    if (!updated) throw notFound(name);
    onProvidersChanged();
    audit(store, c, "admin.provider_update", { target: name });
    return c.json(toApiProvider(updated), 200);
  });

  app.delete("/api/admin/providers/:name", (c) => {
    const name = c.req.param("name");
    if (!store.providers.delete(name)) throw notFound(name);
    onProvidersChanged();
    audit(store, c, "admin.provider_delete", { target: name });
    return c.body(null, 204);
  });
}
