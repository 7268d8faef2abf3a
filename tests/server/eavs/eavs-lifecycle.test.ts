/**
 * The eavs back end in a real `oqto serve` app against the scripted fake eavs: `[eavs]` config, each
 * user's virtual key following their account (made on creation with their limits, disabled on
 * deactivation and deletion, made anew when their limits change, made lazily at the first request), the
 * provider list from `GET /providers/detail`, the admin routes (status, quotas, sync, read-only
 * providers), and eavs being unreachable: admin routes say so with a 503, accounts keep working, and
 * what failed is shown and retried.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { ConfigError, parseConfig } from "../../../src/config/load.ts";
import { buildModelsJson } from "../../../src/llm/models-json.ts";
import type { EavsStatus, ProviderSyncResult } from "../../../src/protocol/eavs.ts";
import { LLM_TOKEN_ENV } from "../../../src/protocol/llm.ts";
import { type AppEnv, createApp } from "../../../src/server/app.ts";
import { createAuth } from "../../../src/server/auth/index.ts";
import { deltaMergeSettings } from "../../../src/server/llm-gateway/delta-merge/merge-load.ts";
import type { EavsBackend } from "../../../src/server/llm-gateway/eavs-backend.ts";
import { eavsKeyName, eavsPermissionsFor } from "../../../src/server/llm-gateway/eavs-keys.ts";
import { createLlmAccess } from "../../../src/server/llm-gateway/llm-access.ts";
import type { Upstream } from "../../../src/server/llm-gateway/llm-backend.ts";
import { ownershipFrom } from "../../../src/server/session-ownership.ts";
import { openStore, type Store } from "../../../src/server/store/index.ts";
import {
  FAKE_EAVS_MASTER_KEY,
  type FakeEavs,
  type FakeEavsKey,
  startFakeEavs,
} from "../../fixtures/fake-eavs.ts";
import { addUser, BASE, bearer, jsonInit, login, TEST_JWT_SECRET } from "../helpers.ts";
import { DETAILS, OPENROUTER } from "./eavs-details.ts";

const STRONG = "tangerine-orbit-lamp-42";
const MASTER_ENV = "OQTO_TEST_EAVS_MASTER";

interface EavsApp {
  app: Hono<AppEnv>;
  store: Store;
  eavs: EavsBackend;
  logs: string[];
  /** How often models.json was pushed (`onProvidersChanged`). */
  pushes(): number;
  call(method: string, path: string, body?: unknown): Promise<Response>;
  close(): void;
}

function eavsConfig(url: string) {
  return parseConfig(
    `[auth]\njwt_secret = ${JSON.stringify(TEST_JWT_SECRET)}\n[eavs]\nurl = ${JSON.stringify(url)}\nmaster_key = "env:${MASTER_ENV}"\ntimeout_s = 2\n`,
  );
}

async function startEavsApp(url: string): Promise<EavsApp> {
  const dir = mkdtempSync("/tmp/oqto-eavs-");
  const dataDir = join(dir, "data");
  const config = eavsConfig(url);
  const store = openStore(dataDir);
  const auth = createAuth({ config, store, dataDir });
  const logs: string[] = [];
  const llm = createLlmAccess({
    store,
    dataDir,
    ownership: ownershipFrom(store),
    log: (message) => logs.push(message),
    eavs: config.eavs,
    merge: deltaMergeSettings(config),
    env: { [MASTER_ENV]: FAKE_EAVS_MASTER_KEY },
  });
  const eavs = llm.eavs;
  if (!eavs) throw new Error("no eavs back end");
  await eavs.start();
  let pushes = 0;
  const app = createApp({
    config,
    store,
    auth,
    version: "9.9.9-test",
    catalog: llm.catalog,
    eavs,
    onProvidersChanged: () => {
      pushes += 1;
    },
    closeSocketsOf: () => {},
  });
  await addUser(store, "root", STRONG, "admin");
  const { token } = await login(app, "root", STRONG);
  return {
    app,
    store,
    eavs,
    logs,
    pushes: () => pushes,
    call: async (method, path, body) =>
      app.request(
        `${BASE}${path}`,
        body === undefined ? { method, headers: bearer(token) } : jsonInit(method, body, bearer(token)),
      ),
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Creates a user through the admin route and waits for the key calls behind it. */
async function createUser(server: EavsApp, username: string): Promise<string> {
  const created = await json<{ id: string }>(
    await server.call("POST", "/api/admin/users", { username, password: STRONG }),
    201,
  );
  await server.eavs.keys.idle();
  return created.id;
}

function keysOf(eavs: FakeEavs, userId: string): FakeEavsKey[] {
  return eavs.keys().filter((key) => key.name === eavsKeyName(userId));
}

function liveKeyOf(eavs: FakeEavs, userId: string): FakeEavsKey | undefined {
  const live = keysOf(eavs, userId).filter((key) => !key.disabled);
  expect(live.length).toBeLessThanOrEqual(1);
  return live[0];
}

/** A port nothing listens on: bound by the OS, then closed again. */
function closedPort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port;
  server.stop(true);
  if (port === undefined) throw new Error("no port");
  return port;
}

describe("[eavs] config", () => {
  test("url is required; master_key defaults to env:EAVS_MASTER_KEY, timeout_s to 10", () => {
    const config = parseConfig('[eavs]\nurl = "http://127.0.0.1:41800"\n');
    expect(config.eavs).toEqual({
      url: "http://127.0.0.1:41800",
      master_key: "env:EAVS_MASTER_KEY",
      timeout_s: 10,
    });
    expect(parseConfig("").eavs).toBeUndefined();
    expect(() => parseConfig("[eavs]\n")).toThrow(/eavs\.url/);
    expect(() => parseConfig('[eavs]\nurl = "ftp://x"\n')).toThrow(/eavs\.url must be an http\(s\) URL/);
    expect(() => parseConfig('[eavs]\nurl = "http://x"\ntimeout_s = 0\n')).toThrow(/eavs\.timeout_s/);
  });

  test("unknown keys are errors", () => {
    expect(() => parseConfig('[eavs]\nurl = "http://x"\nbase_url = "http://y"\n')).toThrow(
      /unknown key 'eavs\.base_url'/,
    );
  });

  test("an env: master key whose variable is unset stops serve with a clear error", () => {
    const dir = mkdtempSync("/tmp/oqto-eavs-cfg-");
    const store = openStore(join(dir, "data"));
    try {
      const start = (master: string, env: Record<string, string>) =>
        createLlmAccess({
          store,
          dataDir: join(dir, "data"),
          ownership: ownershipFrom(store),
          log: () => {},
          eavs: { url: "http://127.0.0.1:1", master_key: master, timeout_s: 1 },
          merge: { windowMs: 0, aboveStreams: 0 },
          env,
        });
      expect(() => start("env:NOT_SET_ANYWHERE", {})).toThrow(ConfigError);
      expect(() => start("env:NOT_SET_ANYWHERE", {})).toThrow(
        "eavs.master_key is 'env:NOT_SET_ANYWHERE', but the environment variable NOT_SET_ANYWHERE is not set",
      );
      expect(() => start("env:EMPTY", { EMPTY: "" })).toThrow(/EMPTY is empty/);
      expect(start("env:SET", { SET: "k" }).eavs).toBeDefined();
      // With [eavs], eavs is the gateway's back end.
      const literal = start("a-literal-master-key", {});
      expect(literal.eavs).toBeDefined();
      expect(literal.backend === literal.eavs).toBe(true);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("eavs permissions from Oqto's limits", () => {
  test("each limit maps to its eavs counterpart, never refusing what Oqto allows", () => {
    expect(eavsPermissionsFor({})).toEqual({});
    expect(
      eavsPermissionsFor({
        models: ["openrouter/some/*", "openrouter/tiny"],
        rpm: 30,
        tpm: 50_000,
        monthly_budget_usd: 5,
        daily_budget_usd: 1,
        daily_tokens: 100,
      }),
    ).toEqual({
      allowed_models: ["some/*", "tiny"],
      allowed_providers: ["openrouter"],
      rpm_limit: 30,
      tpm_limit: 50_000,
      max_budget_usd: 5,
      budget_window: "monthly",
    });
    expect(eavsPermissionsFor({ daily_budget_usd: 0.5 })).toEqual({
      max_budget_usd: 0.5,
      budget_window: "daily",
    });
    // A whole provider: no model list; a prefix over providers: no restriction at all.
    expect(eavsPermissionsFor({ models: ["openrouter/*", "azure/gpt-x"] })).toEqual({
      allowed_providers: ["openrouter", "azure"],
    });
    expect(eavsPermissionsFor({ models: ["open*", "azure/gpt-x"] })).toEqual({});
  });

  test("limits that refuse everything block every model", () => {
    for (const limits of [{ models: [] }, { rpm: 0 }, { tpm: 0 }, { models: ["openrouter"] }]) {
      expect(eavsPermissionsFor(limits).blocked_models).toEqual(["*"]);
    }
    expect(eavsPermissionsFor({ monthly_budget_usd: 0 })).toEqual({
      max_budget_usd: 0,
      budget_window: "monthly",
    });
  });
});

describe("eavs back end: keys, providers and admin routes", () => {
  let fake: FakeEavs;
  let server: EavsApp;

  beforeAll(async () => {
    fake = await startFakeEavs({ providers: DETAILS });
    server = await startEavsApp(fake.url);
  });
  afterAll(async () => {
    server.close();
    await fake.stop();
  });

  test("a user an admin creates gets a virtual key with their limits, stored sealed", async () => {
    server.store.llmLimits.set("role", "user", {
      models: ["openrouter/some/*", "openrouter/tiny"],
      rpm: 30,
      monthly_budget_usd: 5,
    });
    try {
      const id = await createUser(server, "carol");
      const [key, ...more] = keysOf(fake, id);
      expect(more).toEqual([]);
      expect(key?.disabled).toBe(false);
      expect(key?.metadata).toEqual({ oqto_user_id: id });
      expect(key?.permissions).toEqual({
        allowed_models: ["some/*", "tiny"],
        allowed_providers: ["openrouter"],
        rpm_limit: 30,
        max_budget_usd: 5,
        budget_window: "monthly",
      });
      const create = fake.requests().find((r) => r.method === "POST" && r.path === "/admin/keys");
      expect(create?.headers.authorization).toBe(`Bearer ${FAKE_EAVS_MASTER_KEY}`);
      const row = server.store.eavsKeys.get(id);
      expect(row?.key_id).toBe(key?.key_id ?? "");
      expect(Buffer.from(row?.key_sealed ?? []).toString("latin1")).not.toContain(key?.key ?? "-");
      const status = await json<EavsStatus>(await server.call("GET", "/api/admin/eavs/status"), 200);
      expect(status.keys.find((k) => k.user_id === id)).toMatchObject({
        username: "carol",
        key_id: key?.key_id,
        problem: null,
      });
    } finally {
      server.store.llmLimits.clear("role", "user");
    }
  });

  test("deactivation disables the key in eavs; reactivation makes a new one", async () => {
    const id = await createUser(server, "dave");
    const first = liveKeyOf(fake, id);
    expect(first).toBeDefined();
    await json(await server.call("PATCH", `/api/admin/users/${id}`, { is_active: false }), 200);
    expect(server.store.eavsKeys.get(id)).toBeNull();
    await server.eavs.keys.idle();
    expect(fake.key(first?.key_id ?? "")?.disabled).toBe(true);
    expect(server.store.eavsKeys.pendingRevocations()).toEqual([]);
    await json(await server.call("PATCH", `/api/admin/users/${id}`, { is_active: true }), 200);
    await server.eavs.keys.idle();
    const second = liveKeyOf(fake, id);
    expect(second?.key_id).not.toBe(first?.key_id ?? "");
    expect(server.store.eavsKeys.get(id)?.key_id).toBe(second?.key_id ?? "");
  });

  test("deleting the user disables the key in eavs", async () => {
    const id = await createUser(server, "erin");
    const key = liveKeyOf(fake, id);
    expect((await server.call("DELETE", `/api/admin/users/${id}`)).status).toBe(204);
    await server.eavs.keys.idle();
    expect(fake.key(key?.key_id ?? "")?.disabled).toBe(true);
    expect(server.store.eavsKeys.get(id)).toBeNull();
    expect(server.store.eavsKeys.pendingRevocations()).toEqual([]);
  });

  test("a user deleted or deactivated behind serve's back (oqto user) has their key revoked too", async () => {
    const gone = await createUser(server, "frank");
    const off = await createUser(server, "gina");
    const goneKey = liveKeyOf(fake, gone);
    const offKey = liveKeyOf(fake, off);
    server.store.users.delete(gone);
    server.store.users.setAccess(off, { is_active: false });
    expect(server.store.eavsKeys.pendingRevocations().map((r) => r.key_id)).toEqual([goneKey?.key_id ?? ""]);
    await server.eavs.keys.reconcile();
    expect(fake.key(goneKey?.key_id ?? "")?.disabled).toBe(true);
    expect(fake.key(offKey?.key_id ?? "")?.disabled).toBe(true);
    expect(server.store.eavsKeys.get(off)).toBeNull();
    expect(server.store.eavsKeys.pendingRevocations()).toEqual([]);
  });

  test("changing the user's or their role's limits makes a new key with them and disables the old", async () => {
    const id = await createUser(server, "hank");
    const original = liveKeyOf(fake, id);
    expect(original?.permissions).toEqual({});

    await json(await server.call("PUT", `/api/admin/limits/user/${id}`, { rpm: 5 }), 200);
    await server.eavs.keys.idle();
    const own = liveKeyOf(fake, id);
    expect(own?.permissions).toEqual({ rpm_limit: 5 });
    expect(fake.key(original?.key_id ?? "")?.disabled).toBe(true);
    expect(server.store.eavsKeys.get(id)?.key_id).toBe(own?.key_id ?? "");

    await json(await server.call("PUT", "/api/admin/limits/role/user", { daily_budget_usd: 1 }), 200);
    await server.eavs.keys.idle();
    const withRole = liveKeyOf(fake, id);
    expect(withRole?.permissions).toEqual({ rpm_limit: 5, max_budget_usd: 1, budget_window: "daily" });
    expect(fake.key(own?.key_id ?? "")?.disabled).toBe(true);

    expect((await server.call("DELETE", `/api/admin/limits/user/${id}`)).status).toBe(204);
    expect((await server.call("DELETE", "/api/admin/limits/role/user")).status).toBe(204);
    await server.eavs.keys.idle();
    expect(liveKeyOf(fake, id)?.permissions).toEqual({});
    expect(server.store.eavsKeys.pendingRevocations()).toEqual([]);
  });

  test("a user without a key (oqto user add) gets one at their first LLM request", async () => {
    const user = server.store.users.create({ username: "ivy", passwordHash: "x", role: "user" });
    if (!user) throw new Error("no user");
    expect(keysOf(fake, user.id)).toEqual([]);
    const provider = server.eavs.provider("openrouter");
    if (!provider) throw new Error("no provider");
    const upstream = (await server.eavs.upstream(provider, user.id)) as Upstream;
    const key = liveKeyOf(fake, user.id);
    expect(upstream.apiKey).toBe(key?.key ?? "-");
    expect(upstream.baseUrl.href).toBe(`${fake.url}/openrouter/v1`);
    // The second request reuses it.
    expect(((await server.eavs.upstream(provider, user.id)) as Upstream).apiKey).toBe(upstream.apiKey ?? "-");
    expect(keysOf(fake, user.id).length).toBe(1);
  });

  test("the providers come from /providers/detail: pi-reachable ones, their models priced", async () => {
    const providers = server.eavs.providers();
    expect(providers.map((p) => [p.name, p.api])).toEqual([
      ["openrouter", "openai-completions"],
      ["azure", "openai-responses"],
    ]);
    expect(providers[0]?.models).toEqual([
      {
        id: "some/model",
        name: "Some Model",
        context_window: 200_000,
        max_tokens: 16_384,
        reasoning: true,
        input: ["text"],
        price: { input: 3, output: 15, cache_read: 0.3, cache_write: 3 },
      },
      {
        id: "tiny",
        context_window: 32_000,
        max_tokens: 4096,
        reasoning: false,
        input: ["text", "image"],
        price: { input: 0.1, output: 0.2, cache_read: 0, cache_write: 0.1 },
      },
    ]);
    const status = server.eavs.status();
    expect(status.providers.skipped.map((s) => s.name)).toEqual(["default", "local", "codex"]);
    expect(status.providers.skipped[2]?.reason).toContain("openai-codex-responses");
    // models.json points pi at the gateway with its session token: no virtual key in it.
    const modelsJson = buildModelsJson(providers, "http://127.0.0.1:8080/llm", LLM_TOKEN_ENV);
    expect(modelsJson.providers.openrouter?.baseUrl).toBe("http://127.0.0.1:8080/llm/openrouter");
    expect(JSON.stringify(modelsJson)).not.toContain("eavs-");
    // The admin's provider list shows them, read-only.
    const listed = await json<{ name: string; base_url: string }[]>(
      await server.call("GET", "/api/admin/providers"),
      200,
    );
    expect(listed.map((p) => [p.name, p.base_url])).toEqual([
      ["openrouter", `${fake.url}/openrouter/v1`],
      ["azure", `${fake.url}/azure/v1`],
    ]);
  });

  test("the upstream of a provider with headers, and of anthropic's, carries the key where eavs reads it", async () => {
    const id = await createUser(server, "jack");
    const key = liveKeyOf(fake, id)?.key ?? "-";
    const azure = server.eavs.provider("azure");
    if (!azure) throw new Error("no azure");
    const upstream = (await server.eavs.upstream(azure, id)) as Upstream;
    expect(upstream.headers).toEqual({ "api-key": key, "x-team": "research" });

    fake.setProviders([
      ...DETAILS,
      { ...OPENROUTER, name: "claude", type: "anthropic", pi_api: "anthropic-messages" },
    ]);
    try {
      const synced = await json<ProviderSyncResult>(
        await server.call("POST", "/api/admin/providers/sync"),
        200,
      );
      expect(synced).toEqual({ source: "eavs", providers: 3, models: 5 });
      const claude = server.eavs.provider("claude");
      if (!claude) throw new Error("no claude");
      const anthropic = (await server.eavs.upstream(claude, id)) as Upstream;
      // pi's Anthropic client appends v1/messages itself.
      expect(anthropic.baseUrl.href).toBe(`${fake.url}/claude`);
      expect(anthropic.apiKey).toBe(key);
      expect(anthropic.headers).toEqual({ authorization: `Bearer ${key}` });
    } finally {
      fake.setProviders(DETAILS);
      await json(await server.call("POST", "/api/admin/providers/sync"), 200);
    }
  });

  test("sync re-reads the providers and pushes models.json", async () => {
    const before = server.pushes();
    fake.setProviders([OPENROUTER]);
    try {
      const synced = await json<ProviderSyncResult>(
        await server.call("POST", "/api/admin/providers/sync"),
        200,
      );
      expect(synced).toEqual({ source: "eavs", providers: 1, models: 2 });
      expect(server.pushes()).toBe(before + 1);
      expect(server.eavs.providers().map((p) => p.name)).toEqual(["openrouter"]);
    } finally {
      fake.setProviders(DETAILS);
      await json(await server.call("POST", "/api/admin/providers/sync"), 200);
    }
  });

  test("the quotas route relays eavs' /admin/quotas", async () => {
    const quotas = [
      {
        provider: "openrouter",
        account: "default",
        requests_limit: 500,
        requests_remaining: 498,
        requests_reset_secs: 12,
        tokens_limit: null,
        tokens_remaining: null,
        tokens_reset_secs: null,
        age_secs: 3,
      },
    ];
    fake.setQuotas(quotas);
    expect(await json(await server.call("GET", "/api/admin/eavs/quotas"), 200)).toEqual(quotas);
    const request = fake.requests().findLast((r) => r.path === "/admin/quotas");
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_EAVS_MASTER_KEY}`);
  });

  test("provider changes in Oqto are refused: the providers are managed in eavs", async () => {
    const provider = {
      name: "mine",
      api: "openai-completions",
      base_url: "http://127.0.0.1:9/v1",
      models: ["m"],
    };
    const attempts = [
      server.call("POST", "/api/admin/providers", provider),
      server.call("PUT", "/api/admin/providers/openrouter", { ...provider, name: "openrouter" }),
      server.call("DELETE", "/api/admin/providers/openrouter"),
      server.call("POST", "/api/admin/providers/probe", {
        api: "openai-completions",
        base_url: "http://127.0.0.1:9/v1",
      }),
    ];
    for (const response of await Promise.all(attempts)) {
      const body = await json<{ error: string; code: string }>(response, 409);
      expect(body.code).toBe("CONFLICT");
      expect(body.error).toContain("providers are managed in eavs");
    }
  });
});

describe("eavs unreachable", () => {
  let server: EavsApp;
  let port: number;

  beforeAll(async () => {
    port = closedPort();
    server = await startEavsApp(`http://127.0.0.1:${port}`);
  });
  afterAll(() => server.close());

  test("serve starts with no providers and says why", () => {
    expect(server.eavs.providers()).toEqual([]);
    expect(server.logs.join("\n")).toMatch(/eavs: eavs at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
  });

  test("admin routes that need eavs answer a clear 503; the status view still answers", async () => {
    for (const [method, path] of [
      ["GET", "/api/admin/eavs/quotas"],
      ["POST", "/api/admin/providers/sync"],
    ] as const) {
      const body = await json<{ error: string; code: string }>(await server.call(method, path), 503);
      expect(body.code).toBe("SERVICE_UNAVAILABLE");
      expect(body.error).toContain(`eavs at http://127.0.0.1:${port} is unreachable`);
    }
    const status = await json<EavsStatus>(await server.call("GET", "/api/admin/eavs/status"), 200);
    expect(status.providers.error).toContain("unreachable");
  });

  test("accounts still work; what failed is shown, and retried once eavs is back", async () => {
    const id = await createUser(server, "kate");
    const status = await json<EavsStatus>(await server.call("GET", "/api/admin/eavs/status"), 200);
    expect(status.keys.find((k) => k.user_id === id)?.problem?.message).toContain("unreachable");

    // A user whose key was made before eavs went away: deleting them queues the key.
    const old = await createUser(server, "liam");
    server.store.eavsKeys.put(old, "ghost-key", new Uint8Array([1, 2, 3]));
    expect((await server.call("PATCH", `/api/admin/users/${id}`, { is_active: false })).status).toBe(200);
    expect((await server.call("PATCH", `/api/admin/users/${id}`, { is_active: true })).status).toBe(200);
    expect((await server.call("DELETE", `/api/admin/users/${old}`)).status).toBe(204);
    await server.eavs.keys.idle();
    const pending = server.store.eavsKeys.pendingRevocations();
    expect(pending.map((r) => [r.key_id, r.user_id, r.reason])).toEqual([["ghost-key", old, "removed"]]);
    expect(pending[0]?.last_error).toContain("unreachable");

    // The gateway's answer for a user without a key while eavs is down.
    const reason = await server.eavs.keys.keyOf(id);
    expect(reason).toEqual({ reason: expect.stringContaining("no eavs key could be made for your account") });

    // eavs comes back on the same address: a sync reads the providers and settles the queue.
    const fake = await startFakeEavs({ providers: DETAILS });
    const front = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: async (request) => {
        const url = new URL(request.url);
        const body = request.method === "GET" ? undefined : await request.text();
        return fetch(`${fake.url}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          ...(body !== undefined && { body }),
        });
      },
    });
    try {
      const synced = await json<ProviderSyncResult>(
        await server.call("POST", "/api/admin/providers/sync"),
        200,
      );
      expect(synced.providers).toBe(2);
      // eavs never knew the ghost key (404): nothing is left to disable.
      expect(server.store.eavsKeys.pendingRevocations()).toEqual([]);
      const key = await server.eavs.keys.keyOf(id);
      expect("key" in key && key.key).toBe(liveKeyOf(fake, id)?.key ?? "-");
      const after = await json<EavsStatus>(await server.call("GET", "/api/admin/eavs/status"), 200);
      expect(after.keys.find((k) => k.user_id === id)?.problem).toBeNull();
      expect(after.providers.error).toBeNull();
    } finally {
      await front.stop(true);
      await fake.stop();
    }
  });
});
