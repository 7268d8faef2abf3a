import type { Hono } from "hono";
import type { ProviderSyncResult } from "../../protocol/eavs.ts";
import { ProviderBody, ProviderProbeRequest } from "../../protocol/llm.ts";
import { audit } from "../accounts/audit.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import type { EavsBackend } from "../llm-gateway/eavs-backend.ts";
import { type ProviderCatalog, toApiProvider } from "../llm-gateway/provider-catalog.ts";
import { probeProvider } from "../llm-gateway/provider-probe.ts";
import type { Store } from "../store/index.ts";

export interface ProviderRouteDeps {
  store: Store;
  catalog: ProviderCatalog;
  /**
   * Called after every committed change, so that the users' pi models.json can be regenerated. It must not
   * throw: the change is already saved.
   */
  onProvidersChanged: () => void;
  /** eavs mode: the providers are eavs', read-only here. */
  eavs?: EavsBackend;
}

/**
 * Admin provider CRUD under /api/admin/providers (the app restricts /api/admin/* to admins). In eavs mode
 * the list shows eavs' providers and every change (and the probe, which would need a provider key) is a
 * 409: the providers live in eavs.
 */
export function registerProviderRoutes(
  app: Hono<AppEnv>,
  { store, catalog, onProvidersChanged, eavs }: ProviderRouteDeps,
): void {
  const refuseInEavsMode = () => {
    if (!eavs) return;
    throw new ApiError(
      "CONFLICT",
      `providers are managed in eavs (${eavs.url}): add, change or remove them there, then sync them with POST /api/admin/providers/sync`,
      { managed_by: "eavs" },
    );
  };

  app.get("/api/admin/providers", (c) =>
    c.json(eavs ? eavs.apiProviders() : catalog.list().map(toApiProvider)),
  );

  app.post("/api/admin/providers", async (c) => {
    refuseInEavsMode();
    const body = await parseJsonBody(c.req.raw, ProviderBody);
    const created = catalog.create(body);
    onProvidersChanged();
    audit(store, c, "admin.provider_create", { target: body.name });
    return c.json(toApiProvider(created), 201);
  });

  // Before /:name, so that "probe" is not taken for a provider's name.
  app.post("/api/admin/providers/probe", async (c) => {
    refuseInEavsMode();
    const body = await parseJsonBody(c.req.raw, ProviderProbeRequest);
    let apiKey = body.api_key;
    if (apiKey === undefined && body.name !== undefined) {
      const stored = catalog.list().find((provider) => provider.name === body.name);
      if (!stored) throw new ApiError("NOT_FOUND", `no provider named '${body.name}'`);
      // The stored key goes only where it already goes: else a probe would read it back to any URL.
      if (new URL(body.base_url).origin !== new URL(stored.base_url).origin) {
        throw new ApiError(
          "BAD_REQUEST",
          "the stored key is only sent to the provider's own address; enter the key to test another URL",
        );
      }
      apiKey = catalog.storedKey(body.name);
    }
    return c.json(await probeProvider({ api: body.api, baseUrl: body.base_url, apiKey }));
  });

  /**
   * Re-reads the providers (eavs mode: from eavs, retrying the key revocations eavs missed) and pushes every
   * connected runner a fresh models.json.
   */
  app.post("/api/admin/providers/sync", async (c) => {
    if (eavs) {
      await eavs.refresh();
      await eavs.keys.flushRevocations();
    }
    onProvidersChanged();
    const providers = (eavs ?? catalog).providers();
    const result: ProviderSyncResult = {
      source: eavs ? "eavs" : "embedded",
      providers: providers.length,
      models: providers.reduce((sum, provider) => sum + provider.models.length, 0),
    };
    audit(store, c, "admin.providers_sync", { detail: result });
    return c.json(result);
  });

  app.put("/api/admin/providers/:name", async (c) => {
    refuseInEavsMode();
    const name = c.req.param("name");
    const body = await parseJsonBody(c.req.raw, ProviderBody);
    if (body.name !== name) {
      throw new ApiError(
        "BAD_REQUEST",
        `the body names provider '${body.name}' but the URL names '${name}'`,
        {
          issues: [{ path: "name", code: "custom", message: "must match the provider name in the URL" }],
        },
      );
    }
    const updated = catalog.update(body);
    onProvidersChanged();
    audit(store, c, "admin.provider_update", {
      target: name,
      ...(body.api_key !== undefined && { detail: { key_replaced: true } }),
    });
    return c.json(toApiProvider(updated), 200);
  });

  app.delete("/api/admin/providers/:name", (c) => {
    refuseInEavsMode();
    const name = c.req.param("name");
    catalog.delete(name);
    onProvidersChanged();
    audit(store, c, "admin.provider_delete", { target: name });
    return c.body(null, 204);
  });
}
