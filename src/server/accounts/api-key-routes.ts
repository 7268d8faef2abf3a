import type { Hono } from "hono";
import { type ApiKey, CreateApiKeyRequest, type CreatedApiKey } from "../../protocol/rest.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import type { ApiKeyRecord } from "../store/index.ts";
import type { AccountDeps } from "./account-deps.ts";
import { audit } from "./audit.ts";
import { mintApiKey } from "./secrets.ts";

/** A user may hold this many keys; more is a script gone wrong. */
const MAX_KEYS_PER_USER = 50;

function toApiKey(record: ApiKeyRecord): ApiKey {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    created_at: record.created_at,
    ...(record.expires_at !== null && { expires_at: record.expires_at }),
    ...(record.last_used_at !== null && { last_used_at: record.last_used_at }),
  };
}

/** Personal API keys (`/api/keys`): created and listed by their owner, shown once, stored hashed. */
export function registerApiKeyRoutes(app: Hono<AppEnv>, { store }: AccountDeps): void {
  app.get("/api/keys", (c) => c.json({ keys: store.apiKeys.listFor(c.var.user.id).map(toApiKey) }));

  app.post("/api/keys", async (c) => {
    const body = await parseJsonBody(c.req.raw, CreateApiKeyRequest);
    const userId = c.var.user.id;
    if (store.apiKeys.listFor(userId).length >= MAX_KEYS_PER_USER)
      throw new ApiError("CONFLICT", `at most ${MAX_KEYS_PER_USER} API keys per user; delete one first`);
    const now = Date.now();
    const minted = mintApiKey();
    const record = store.apiKeys.create({
      user_id: userId,
      name: body.name,
      key_hash: minted.hash,
      prefix: minted.prefix,
      created_at: now,
      expires_at: body.expires_in_s === undefined ? null : now + body.expires_in_s * 1000,
    });
    audit(store, c, "account.key_create", { target: record.id, detail: { name: record.name } });
    return c.json({ ...toApiKey(record), key: minted.secret } satisfies CreatedApiKey, 201);
  });

  app.delete("/api/keys/:id", (c) => {
    const id = c.req.param("id");
    // Another user's key is "not found", the same as one that does not exist.
    if (!store.apiKeys.delete(c.var.user.id, id)) throw new ApiError("NOT_FOUND", "no such API key");
    audit(store, c, "account.key_delete", { target: id });
    return c.body(null, 204);
  });
}
