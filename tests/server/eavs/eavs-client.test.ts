import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { EavsClient, eavsErrorCode } from "../../../src/llm/eavs/eavs-client.ts";
import { buildEavsModelsJson } from "../../../src/llm/eavs/eavs-models.ts";
import { toEavsPermissions } from "../../../src/llm/eavs/eavs-permissions.ts";
import type { EavsPermissions } from "../../../src/llm/eavs/eavs-schemas.ts";
import { ApiError } from "../../../src/server/http-errors.ts";
import { FAKE_EAVS_MASTER_KEY, type FakeEavs, startFakeEavs } from "../../fixtures/fake-eavs.ts";
import { DETAILS } from "./eavs-details.ts";

/** The ApiError a promise rejects with (fails the test if it resolves or throws something else). */
async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

/** Sends one chat completion through the fake's proxy and reads the whole answer. */
async function chat(eavs: FakeEavs, key: string, model = "some/model"): Promise<Response> {
  const response = await fetch(`${eavs.url}/openrouter/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  await response.clone().text();
  return response;
}

/** A port nothing listens on: bound by the OS, then closed again. */
function closedPort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port;
  server.stop(true);
  if (port === undefined) throw new Error("no port");
  return port;
}

describe("EavsClient against the fake eavs", () => {
  let eavs: FakeEavs;
  let client: EavsClient;
  beforeAll(async () => {
    eavs = await startFakeEavs({ providers: DETAILS });
    client = new EavsClient({ baseUrl: `${eavs.url}/`, masterKey: FAKE_EAVS_MASTER_KEY });
  });
  afterAll(() => eavs.stop());
  beforeEach(() => {
    eavs.reset();
    eavs.setProviders(DETAILS);
  });

  test("health: GET /health without the master key", async () => {
    await client.health();
    const [request] = eavs.requests();
    expect(request?.method).toBe("GET");
    expect(request?.path).toBe("/health");
    expect(request?.headers.authorization).toBeUndefined();
  });

  test("createKey sends the user's limits as permissions, with the master key", async () => {
    const permissions = toEavsPermissions({
      allowed_models: ["some/*", "tiny"],
      rpm: 30,
      tpm: 50_000,
      budget_usd: 5,
      budget_window: "monthly",
    });
    const created = await client.createKey({
      name: "oqto-user-u1",
      permissions,
      metadata: { oqto_user_id: "u1" },
    });
    const expected: EavsPermissions = {
      allowed_models: ["some/*", "tiny"],
      rpm_limit: 30,
      tpm_limit: 50_000,
      max_budget_usd: 5,
      budget_window: "monthly",
    };
    expect(eavs.key(created.key_id)?.permissions).toEqual(expected);
    expect(created.permissions).toEqual(expected);
    expect(created.name).toBe("oqto-user-u1");
    expect(created.key).toBe(eavs.key(created.key_id)?.key ?? "missing");
    expect(created.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(eavs.key(created.key_id)?.metadata).toEqual({ oqto_user_id: "u1" });

    const [request] = eavs.requests();
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/admin/keys");
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_EAVS_MASTER_KEY}`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({
      name: "oqto-user-u1",
      permissions: expected,
      metadata: { oqto_user_id: "u1" },
    });
  });

  test("createKey with no limits sends empty permissions (eavs fills its defaults) and an expiry", async () => {
    const created = await client.createKey({
      name: "oqto-user-u2",
      permissions: toEavsPermissions({}),
      metadata: {},
      expires_at: "2099-01-01T00:00:00Z",
    });
    expect(eavs.key(created.key_id)?.permissions).toEqual({});
    expect(created.expires_at).toBe("2099-01-01T00:00:00Z");
  });

  test("createKey refuses a malformed request before sending it", async () => {
    const error = await apiError(
      client.createKey({ name: "", permissions: {}, metadata: {}, expires_at: "tomorrow" }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(eavs.requests()).toEqual([]);
  });

  test("listKeys lists every key, without the secrets", async () => {
    const a = await client.createKey({ name: "oqto-user-a", permissions: {}, metadata: {} });
    const b = await client.createKey({ name: "oqto-user-b", permissions: { rpm_limit: 5 }, metadata: {} });
    const keys = await client.listKeys();
    expect(keys.map((k) => [k.key_id, k.name, k.disabled])).toEqual([
      [a.key_id, "oqto-user-a", false],
      [b.key_id, "oqto-user-b", false],
    ]);
    expect(keys[1]?.permissions).toEqual({ rpm_limit: 5 });
    for (const key of keys) expect(Object.hasOwn(key, "key")).toBe(false);
  });

  test("getKey and keyUsage report what went through the proxy", async () => {
    const created = await client.createKey({ name: "oqto-user-u3", permissions: {}, metadata: {} });
    const fresh = await client.getKey(created.key_id);
    expect(fresh.usage).toMatchObject({ total_requests: 0, total_spend_usd: 0, last_request_at: null });

    eavs.script([{ text: "hello", usage: { prompt_tokens: 1000, completion_tokens: 200 } }]);
    expect((await chat(eavs, created.key)).status).toBe(200);

    const info = await client.getKey(created.key_id);
    // 1000 × $3/M + 200 × $15/M
    const cost = (1000 * 3 + 200 * 15) / 1_000_000;
    expect(info.usage.total_requests).toBe(1);
    expect(info.usage.total_input_tokens).toBe(1000);
    expect(info.usage.total_output_tokens).toBe(200);
    expect(info.usage.total_spend_usd).toBeCloseTo(cost, 12);
    expect(info.usage.window_spend_usd).toBeCloseTo(cost, 12);
    expect(typeof info.usage.last_request_at).toBe("string");
    // Lookup by hash works as well as by id.
    expect((await client.getKey(created.key_hash)).key_id).toBe(created.key_id);

    const rows = await client.keyUsage(created.key_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      model: "some/model",
      provider: "openrouter",
      input_tokens: 1000,
      output_tokens: 200,
    });
    expect(rows[0]?.cost_usd).toBeCloseTo(cost, 12);
  });

  test("deleteKey disables the key: getKey shows it, and the proxy refuses it with 401", async () => {
    const created = await client.createKey({ name: "oqto-user-u4", permissions: {}, metadata: {} });
    expect((await chat(eavs, created.key)).status).toBe(200);

    await client.deleteKey(created.key_id);
    const deleteRequest = eavs.requests().find((r) => r.method === "DELETE");
    expect(deleteRequest?.path).toBe(`/admin/keys/${created.key_id}`);
    expect((await client.getKey(created.key_id)).disabled).toBe(true);
    expect(eavs.key(created.key_id)?.disabled).toBe(true);

    const refused = await chat(eavs, created.key);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      error: { message: "API key has been disabled", type: "authentication_error", code: "key_disabled" },
    });
  });

  test("an unknown key id is BAD_GATEWAY with eavs' not_found code", async () => {
    const error = await apiError(client.getKey("no-such"));
    expect(error.code).toBe("BAD_GATEWAY");
    expect(error.details).toEqual({ eavs_code: "not_found", eavs_status: 404 });
    expect(eavsErrorCode(error)).toBe("not_found");
    expect(error.message).toBe("eavs refused GET /admin/keys/no-such (HTTP 404, not_found): Key not found");
    expect(eavsErrorCode(await apiError(client.deleteKey("no-such")))).toBe("not_found");
  });

  test("providersDetail feeds buildEavsModelsJson (EAVS.md §7)", async () => {
    const details = await client.providersDetail();
    expect(details.map((d) => [d.name, d.pi_api])).toEqual([
      ["openrouter", "openai-completions"],
      ["azure", "openai-responses"],
      ["default", "openai-completions"],
      ["local", null],
      ["codex", "openai-codex-responses"],
    ]);
    const modelsJson = buildEavsModelsJson(details, { baseUrl: `${eavs.url}/`, virtualKey: "eavs-user-key" });
    expect(Object.keys(modelsJson.providers)).toEqual(["eavs-openrouter", "eavs-azure", "eavs-codex"]);

    const openrouter = modelsJson.providers["eavs-openrouter"];
    expect(openrouter?.baseUrl).toBe(`${eavs.url}/openrouter/v1`);
    expect(openrouter?.api).toBe("openai-completions");
    expect(openrouter?.apiKey).toBe("eavs-user-key");
    expect(openrouter).not.toHaveProperty("headers");
    expect(openrouter).not.toHaveProperty("compat");
    expect(openrouter?.models).toEqual([
      {
        id: "some/model",
        name: "Some Model",
        reasoning: true,
        input: ["text"],
        contextWindow: 200_000,
        maxTokens: 16_384,
        cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3 },
      },
      {
        id: "tiny",
        name: "tiny",
        reasoning: false,
        input: ["text", "image"],
        contextWindow: 32_000,
        maxTokens: 4096,
        cost: { input: 0.1, output: 0.2, cacheRead: 0, cacheWrite: 0.1 },
        compat: { supportsDeveloperRole: false, maxTokensField: "max_tokens" },
      },
    ]);

    const azure = modelsJson.providers["eavs-azure"];
    expect(azure?.baseUrl).toBe(`${eavs.url}/azure/v1`);
    expect(azure?.api).toBe("openai-responses");
    expect(azure?.apiKey).toBe("eavs-user-key");
    expect(azure?.headers).toEqual({ "api-key": "eavs-user-key", "x-team": "research" });
    // Provider-level compat is not used; extra eavs fields do not leak into pi's file.
    expect(azure).not.toHaveProperty("compat");
    expect(azure?.models).toEqual([
      {
        id: "gpt-x",
        name: "GPT X",
        reasoning: false,
        input: ["text"],
        contextWindow: 128_000,
        maxTokens: 8192,
        cost: { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 2 },
      },
    ]);

    expect(modelsJson.providers["eavs-codex"]).toEqual({
      baseUrl: `${eavs.url}/codex/v1`,
      api: "openai-codex-responses",
      apiKey: "eavs-user-key",
      models: [],
    });
  });

  test("quotas returns eavs' provider-side snapshots", async () => {
    const snapshots = [
      {
        provider: "openrouter",
        account: "default",
        requests_limit: 500,
        requests_remaining: 499,
        requests_reset_secs: 360,
        tokens_limit: 200_000,
        tokens_remaining: null,
        tokens_reset_secs: null,
        age_secs: 1.5,
      },
    ];
    eavs.setQuotas(snapshots);
    expect(await client.quotas()).toEqual(snapshots);
    expect(eavs.requests()[0]?.headers.authorization).toBe(`Bearer ${FAKE_EAVS_MASTER_KEY}`);
  });

  test("a wrong master key is BAD_GATEWAY with eavs' code, and no key in the message", async () => {
    const wrongKey = "wrong-master-key-0123456789";
    const wrong = new EavsClient({ baseUrl: eavs.url, masterKey: wrongKey });
    for (const call of [() => wrong.listKeys(), () => wrong.quotas(), () => wrong.getKey("x")]) {
      const error = await apiError(call());
      expect(error.code).toBe("BAD_GATEWAY");
      expect(error.details).toEqual({ eavs_code: "unauthorized", eavs_status: 401 });
      expect(error.message).toContain("Invalid master key");
      expect(error.message).not.toContain(wrongKey);
      expect(error.message).not.toContain(FAKE_EAVS_MASTER_KEY);
      expect(JSON.stringify(error.details)).not.toContain(wrongKey);
    }
    expect(eavs.requests()[0]?.headers.authorization).toBe(`Bearer ${wrongKey}`);
  });

  test("a master key that eavs echoes back is redacted from the message", async () => {
    eavs.respondOnce("GET /admin/keys", {
      status: 500,
      body: JSON.stringify({ error: `cannot use ${FAKE_EAVS_MASTER_KEY} today`, code: "list_failed" }),
    });
    const error = await apiError(client.listKeys());
    expect(error.message).toBe(
      "eavs refused GET /admin/keys (HTTP 500, list_failed): cannot use [master key] today",
    );
    expect(error.details).toEqual({ eavs_code: "list_failed", eavs_status: 500 });
  });

  test("malformed JSON from eavs is a clear BAD_GATEWAY, and the client keeps working", async () => {
    eavs.respondOnce("GET /providers/detail", { body: '[{"name": "openrouter",' });
    const error = await apiError(client.providersDetail());
    expect(error.code).toBe("BAD_GATEWAY");
    expect(error.message).toStartWith("eavs answered GET /providers/detail with malformed JSON: ");
    expect(error.details).toEqual({ eavs_status: 200 });
    expect(await client.providersDetail()).toHaveLength(DETAILS.length);
  });

  test("a body without the documented fields is BAD_GATEWAY naming them", async () => {
    eavs.respondOnce("GET /admin/keys", { body: JSON.stringify([{ key_id: 7, name: null }]) });
    const error = await apiError(client.listKeys());
    expect(error.code).toBe("BAD_GATEWAY");
    expect(error.message).toStartWith("eavs answered GET /admin/keys with an unexpected body: 0.key_id, ");
    expect(error.message).toContain("0.usage");
    expect(error.details?.issues).toBeArray();

    // pi_api values outside EAVS.md §7's list are refused, not written into models.json.
    eavs.respondOnce("GET /providers/detail", {
      body: JSON.stringify([{ ...DETAILS[0], pi_api: "carrier-pigeon" }]),
    });
    expect((await apiError(client.providersDetail())).message).toContain("0.pi_api");
  });

  test("a non-JSON error page is BAD_GATEWAY with the status and a snippet", async () => {
    eavs.respondOnce("POST /admin/keys", {
      status: 500,
      body: "<html>\n  <h1>Internal   error</h1></html>",
      contentType: "text/html",
    });
    const error = await apiError(client.createKey({ name: "n", permissions: {}, metadata: {} }));
    expect(error.code).toBe("BAD_GATEWAY");
    expect(error.message).toBe(
      "eavs answered POST /admin/keys with HTTP 500: <html> <h1>Internal error</h1></html>",
    );
    expect(error.details).toEqual({ eavs_status: 500 });
    expect(eavsErrorCode(error)).toBeUndefined();
  });

  test("a redirect is not followed (it would carry the master key elsewhere)", async () => {
    const other = await startFakeEavs();
    try {
      const redirecting = new EavsClient({
        baseUrl: eavs.url,
        masterKey: FAKE_EAVS_MASTER_KEY,
        fetch: (_url, init) => {
          expect(init.redirect).toBe("manual");
          return Promise.resolve(new Response(null, { status: 307, headers: { location: other.url } }));
        },
      });
      const error = await apiError(redirecting.listKeys());
      expect(error.message).toBe("eavs answered GET /admin/keys with HTTP 307");
      expect(other.requests()).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  test("an injected fetch is used for every call", async () => {
    const seen: string[] = [];
    const counting = new EavsClient({
      baseUrl: eavs.url,
      masterKey: FAKE_EAVS_MASTER_KEY,
      fetch: (url, init) => {
        seen.push(`${init.method} ${url}`);
        return fetch(url, init);
      },
    });
    await counting.health();
    await counting.listKeys();
    expect(seen).toEqual([`GET ${eavs.url}/health`, `GET ${eavs.url}/admin/keys`]);
  });

  test("eavs too slow is SERVICE_UNAVAILABLE after the timeout", async () => {
    eavs.respondOnce("GET /admin/quotas", { body: "[]", delayMs: 2000 });
    const impatient = new EavsClient({ baseUrl: eavs.url, masterKey: FAKE_EAVS_MASTER_KEY, timeoutMs: 150 });
    const started = performance.now();
    const error = await apiError(impatient.quotas());
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.message).toBe(`eavs at ${eavs.url} did not answer GET /admin/quotas within 150 ms`);
  });

  test("a fetch that ignores the abort signal still times out", async () => {
    const stuck = new EavsClient({
      baseUrl: eavs.url,
      masterKey: FAKE_EAVS_MASTER_KEY,
      timeoutMs: 100,
      fetch: () => new Promise<Response>(() => {}),
    });
    expect((await apiError(stuck.health())).code).toBe("SERVICE_UNAVAILABLE");
  });
});

describe("EavsClient when eavs is not there or not set up", () => {
  test("a closed port is SERVICE_UNAVAILABLE, quickly, naming the URL", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const masterKey = "unreachable-master-key-42";
    const client = new EavsClient({ baseUrl: url, masterKey });
    for (const call of [() => client.health(), () => client.listKeys(), () => client.providersDetail()]) {
      const started = performance.now();
      const error = await apiError(call());
      expect(performance.now() - started).toBeLessThan(2000);
      expect(error.code).toBe("SERVICE_UNAVAILABLE");
      expect(error.message).toStartWith(`eavs at ${url} is unreachable (`);
      expect(error.message).not.toContain(masterKey);
    }
  });

  test("eavs without a master key is BAD_GATEWAY admin_disabled; discovery still works", async () => {
    const eavs = await startFakeEavs({ masterKey: null, providers: DETAILS });
    try {
      const client = new EavsClient({ baseUrl: eavs.url, masterKey: "configured-in-oqto-only" });
      const error = await apiError(client.createKey({ name: "n", permissions: {}, metadata: {} }));
      expect(error.code).toBe("BAD_GATEWAY");
      expect(error.details).toEqual({ eavs_code: "admin_disabled", eavs_status: 403 });
      expect(error.message).not.toContain("configured-in-oqto-only");
      await client.health();
      expect(await client.providersDetail()).toHaveLength(DETAILS.length);
    } finally {
      await eavs.stop();
    }
  });

  test("eavs with keys disabled is BAD_GATEWAY keys_disabled", async () => {
    const eavs = await startFakeEavs({ keysEnabled: false });
    try {
      const client = new EavsClient({ baseUrl: eavs.url, masterKey: FAKE_EAVS_MASTER_KEY });
      const error = await apiError(client.listKeys());
      expect(error.details).toEqual({ eavs_code: "keys_disabled", eavs_status: 503 });
    } finally {
      await eavs.stop();
    }
  });

  test("the constructor refuses a base URL that is not http(s), an empty key, a bad timeout", () => {
    expect(() => new EavsClient({ baseUrl: "ftp://x", masterKey: "k" })).toThrow("not an http(s) URL");
    expect(() => new EavsClient({ baseUrl: "http://127.0.0.1:1", masterKey: "" })).toThrow("empty");
    expect(() => new EavsClient({ baseUrl: "http://127.0.0.1:1", masterKey: "k", timeoutMs: 0 })).toThrow(
      "timeout",
    );
  });
});
