import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { dataPaths } from "../../src/config/paths.ts";
import { Provider, ProviderProbeResult } from "../../src/protocol/llm.ts";
import { KeyVault } from "../../src/server/llm-gateway/key-vault.ts";
import { addUser, BASE, bearer, createTestServer, jsonInit, login, type TestServer } from "./helpers.ts";

let server: TestServer;
let adminToken: string;
let userToken: string;

beforeEach(async () => {
  server = createTestServer();
  await addUser(server.store, "admin", "admin-password", "admin");
  await addUser(server.store, "alice", "alice-password", "user");
  adminToken = (await login(server.app, "admin", "admin-password")).token;
  userToken = (await login(server.app, "alice", "alice-password")).token;
});
afterEach(() => server.close());

const SECRET_KEY = "sk-very-secret-key-123";
const provider = {
  name: "local-llm",
  api: "openai-completions",
  base_url: "http://127.0.0.1:11434/v1",
  api_key: SECRET_KEY,
  models: ["qwen3", "llama4"],
};

const url = (path = "") => `${BASE}/api/admin/providers${path}`;
const asAdmin = (method: string, body?: unknown) =>
  body === undefined ? { method, headers: bearer(adminToken) } : jsonInit(method, body, bearer(adminToken));

/** The stored key as the vault opens it; the database itself holds only ciphertext. */
function storedKey(name: string): string | undefined {
  const sealed = server.store.providers.get(name)?.api_key_sealed;
  if (!sealed) return undefined;
  expect(Buffer.from(sealed).toString("latin1")).not.toContain("sk-");
  return KeyVault.open(dataPaths(join(server.dir, "data")).keyVaultSecret, {}).open(sealed, name);
}

describe("admin providers", () => {
  test("create, list, update, delete; the key is never returned", async () => {
    const created = await server.app.request(url(), asAdmin("POST", provider));
    expect(created.status).toBe(201);
    const createdText = await created.text();
    expect(createdText).not.toContain(SECRET_KEY);
    const body = Provider.parse(JSON.parse(createdText));
    expect(body).toMatchObject({
      name: "local-llm",
      models: [{ id: "qwen3" }, { id: "llama4" }],
      has_api_key: true,
    });
    expect(JSON.parse(createdText)).not.toHaveProperty("api_key");
    expect(server.providerChanges()).toBe(1);

    const list = await server.app.request(url(), asAdmin("GET"));
    const listText = await list.text();
    expect(listText).not.toContain(SECRET_KEY);
    expect((JSON.parse(listText) as unknown[]).map((p) => Provider.parse(p).name)).toEqual(["local-llm"]);

    const updated = await server.app.request(
      url("/local-llm"),
      asAdmin("PUT", { ...provider, models: ["qwen3"], api_key: "sk-rotated" }),
    );
    expect(updated.status).toBe(200);
    const updatedText = await updated.text();
    expect(updatedText).not.toContain("sk-rotated");
    expect(Provider.parse(JSON.parse(updatedText)).models).toEqual([{ id: "qwen3" }]);
    expect(storedKey("local-llm")).toBe("sk-rotated");
    expect(server.providerChanges()).toBe(2);

    // An update without a key keeps the stored one; models may carry context size and price.
    const { api_key: _omitted, ...withoutKey } = provider;
    const priced = {
      ...withoutKey,
      models: [{ id: "qwen3", context_window: 32768, price: { input: 0.5, output: 1.5 } }],
    };
    const kept = await server.app.request(url("/local-llm"), asAdmin("PUT", priced));
    expect(kept.status).toBe(200);
    expect(Provider.parse(await kept.json())).toMatchObject({
      has_api_key: true,
      models: [
        {
          id: "qwen3",
          context_window: 32768,
          price: { input: 0.5, output: 1.5, cache_read: 0, cache_write: 0 },
        },
      ],
    });
    expect(storedKey("local-llm")).toBe("sk-rotated");
    expect(server.providerChanges()).toBe(3);

    const deleted = await server.app.request(url("/local-llm"), asAdmin("DELETE"));
    expect(deleted.status).toBe(204);
    expect(server.store.providers.list()).toEqual([]);
    expect(server.providerChanges()).toBe(4);
  });

  test("a duplicate POST is 409; PUT and DELETE of a missing provider are 404", async () => {
    await server.app.request(url(), asAdmin("POST", provider));
    const duplicate = await server.app.request(url(), asAdmin("POST", provider));
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({ code: "CONFLICT" });
    const missingPut = await server.app.request(
      url("/ghost"),
      asAdmin("PUT", { ...provider, name: "ghost" }),
    );
    expect(missingPut.status).toBe(404);
    const missingDelete = await server.app.request(url("/ghost"), asAdmin("DELETE"));
    expect(missingDelete.status).toBe(404);
    expect(await missingDelete.json()).toEqual({ error: "no provider named 'ghost'", code: "NOT_FOUND" });
    expect(server.providerChanges()).toBe(1);
  });

  test("non-admins get 403 on every provider route", async () => {
    await server.app.request(url(), asAdmin("POST", provider));
    const requests: [string, RequestInit][] = [
      [url(), { headers: bearer(userToken) }],
      [url(), jsonInit("POST", { ...provider, name: "mine" }, bearer(userToken))],
      [url("/local-llm"), jsonInit("PUT", provider, bearer(userToken))],
      [url("/local-llm"), { method: "DELETE", headers: bearer(userToken) }],
    ];
    for (const [target, init] of requests) {
      const res = await server.app.request(target, init);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: "administrator role required", code: "FORBIDDEN" });
    }
    expect(server.store.providers.list().map((p) => p.name)).toEqual(["local-llm"]);
    expect(server.providerChanges()).toBe(1);
  });

  test("invalid bodies are 400 with the zod issues in details", async () => {
    const bad = {
      name: "Bad Name",
      api: "soap",
      base_url: "ftp://x",
      api_key: "",
      models: [],
      extra: 1,
    };
    const res = await server.app.request(url(), asAdmin("POST", bad));
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      code: string;
      details: { issues: { path: string; message: string }[] };
    };
    expect(body.code).toBe("BAD_REQUEST");
    const paths = body.details.issues.map((issue) => issue.path);
    for (const field of ["name", "api", "base_url", "api_key", "models"]) expect(paths).toContain(field);
    expect(server.store.providers.list()).toEqual([]);
    expect(body.details.issues.some((issue) => issue.message.includes("extra"))).toBe(true);
    expect(server.providerChanges()).toBe(0);
  });

  test("a key that pi would run as a shell command is refused", async () => {
    const res = await server.app.request(url(), asAdmin("POST", { ...provider, api_key: "!curl|sh" }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      details: { issues: { path: string; code: string; message: string }[] };
    };
    expect(body.details.issues).toEqual([
      {
        path: "api_key",
        code: "custom",
        message: "must not start with '!' (pi would run it as a shell command)",
      },
    ]);
    expect(server.store.providers.list()).toEqual([]);
  });

  test("PUT with a body naming another provider is 400", async () => {
    await server.app.request(url(), asAdmin("POST", provider));
    const res = await server.app.request(url("/local-llm"), asAdmin("PUT", { ...provider, name: "renamed" }));
    expect(res.status).toBe(400);
    expect(server.store.providers.get("renamed")).toBeNull();
  });

  test("415 without a JSON content type", async () => {
    const res = await server.app.request(url(), {
      method: "POST",
      headers: { ...bearer(adminToken), "content-type": "application/x-www-form-urlencoded" },
      body: "name=x",
    });
    expect(res.status).toBe(415);
    const missing = await server.app.request(url(), {
      method: "POST",
      headers: bearer(adminToken),
      body: JSON.stringify(provider),
    });
    expect(missing.status).toBe(415);
    expect(server.store.providers.list()).toEqual([]);
  });
});

describe("probe", () => {
  test("lists an OpenAI-compatible server's models with the key it was given, or the stored key", async () => {
    const seen: string[] = [];
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        seen.push(`${new URL(request.url).pathname} ${request.headers.get("authorization")}`);
        if (request.headers.get("authorization") !== `Bearer ${SECRET_KEY}`) {
          return Response.json({ error: { message: "invalid key" } }, { status: 401 });
        }
        return Response.json({
          data: [
            { id: "qwen3", context_length: 32768, pricing: { prompt: "0.0000005", completion: "0.0000015" } },
            { id: "llama4" },
          ],
        });
      },
    });
    const base = `http://127.0.0.1:${upstream.port}/v1`;
    try {
      const probe = (body: unknown) => server.app.request(url("/probe"), asAdmin("POST", body));
      const fresh = await probe({ api: "openai-completions", base_url: base, api_key: SECRET_KEY });
      expect(fresh.status).toBe(200);
      const result = ProviderProbeResult.parse(await fresh.json());
      expect(result).toMatchObject({ ok: true, status: 200, message: "2 models" });
      expect(result.models).toEqual([
        {
          id: "qwen3",
          context_window: 32768,
          price: { input: 0.5, output: 1.5, cache_read: 0, cache_write: 0 },
        },
        { id: "llama4" },
      ]);
      const wrong = ProviderProbeResult.parse(
        await (await probe({ api: "openai-completions", base_url: base, api_key: "sk-wrong" })).json(),
      );
      expect(wrong).toMatchObject({ ok: false, status: 401, models: [] });
      expect(wrong.message).toContain("invalid key");

      await server.app.request(url(), asAdmin("POST", { ...provider, base_url: base }));
      const stored = await probe({ name: "local-llm", api: "openai-completions", base_url: base });
      expect(ProviderProbeResult.parse(await stored.json()).ok).toBe(true);
      // The stored key is never sent anywhere else: that would read it back.
      const elsewhere = await probe({
        name: "local-llm",
        api: "openai-completions",
        base_url: "http://127.0.0.1:9/v1",
      });
      expect(elsewhere.status).toBe(400);
      const unreachable = ProviderProbeResult.parse(
        await (
          await probe({ api: "openai-completions", base_url: "http://127.0.0.1:9/v1", api_key: "k" })
        ).json(),
      );
      expect(unreachable.ok).toBe(false);
      expect(unreachable.message).toStartWith("unreachable");
      expect(seen.filter((line) => line.includes(SECRET_KEY))).toHaveLength(2);
    } finally {
      await upstream.stop(true);
    }
  });

  test("non-admins get 403", async () => {
    const res = await server.app.request(
      url("/probe"),
      jsonInit("POST", { api: "openai-completions", base_url: "http://127.0.0.1:9/v1" }, bearer(userToken)),
    );
    expect(res.status).toBe(403);
  });
});
