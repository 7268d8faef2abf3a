/**
 * A real `oqto serve` app for REST tests: a fresh SQLite file in a temp dir, real auth, real routes.
 * Requests go through `app.request()` (or a real Bun.serve where the socket matters).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { parseConfig } from "../../src/config/load.ts";
import { dataPaths } from "../../src/config/paths.ts";
import type { Config } from "../../src/config/schema.ts";
import type { Role } from "../../src/protocol/rest.ts";
import { type AppEnv, createApp } from "../../src/server/app.ts";
import { type Auth, createAuth } from "../../src/server/auth/index.ts";
import { hashPassword } from "../../src/server/auth/passwords.ts";
import { KeyVault } from "../../src/server/llm-gateway/key-vault.ts";
import { ProviderCatalog } from "../../src/server/llm-gateway/provider-catalog.ts";
import { openStore, type Store, type UserRecord } from "../../src/server/store/index.ts";

/** Known secret so that tests can forge tokens (expired, wrong tv) with jose directly. */
export const TEST_JWT_SECRET = "oqto-test-secret-0123456789abcdef-0123456789";
export const BASE = "http://oqto.test";

export interface TestServer {
  dir: string;
  config: Config;
  store: Store;
  auth: Auth;
  app: Hono<AppEnv>;
  /** How often `onProvidersChanged` was called. */
  providerChanges: () => number;
  /** The users whose WebSockets the app asked to close, in order. */
  closedSockets: string[];
  close: () => void;
}

export function createTestServer(
  extraToml = "",
  extraRoutes?: (app: Hono<AppEnv>) => void,
  { jwtSecret = TEST_JWT_SECRET }: { jwtSecret?: string | null } = {},
): TestServer {
  const dir = mkdtempSync("/tmp/oqs-");
  const secretToml = jwtSecret === null ? "" : `jwt_secret = ${JSON.stringify(jwtSecret)}\n`;
  const config = parseConfig(`[auth]\n${secretToml}${extraToml}`);
  const dataDir = join(dir, "data");
  const store = openStore(dataDir);
  const auth = createAuth({ config, store, dataDir });
  let changes = 0;
  const closedSockets: string[] = [];
  const app = createApp({
    config,
    store,
    auth,
    version: "9.9.9-test",
    catalog: testCatalog(store, dataDir),
    onProvidersChanged: () => {
      changes += 1;
    },
    closeSocketsOf: (userId) => closedSockets.push(userId),
    ...(extraRoutes && { extraRoutes }),
  });
  return {
    dir,
    config,
    store,
    auth,
    app,
    providerChanges: () => changes,
    closedSockets,
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The providers with keys sealed by a vault whose secret lives in the test's data dir. */
export function testCatalog(store: Store, dataDir: string): ProviderCatalog {
  return new ProviderCatalog(store, KeyVault.open(dataPaths(dataDir).keyVaultSecret, {}), () => {});
}

export async function addUser(store: Store, username: string, password: string, role: Role = "user") {
  const user = store.users.create({ username, passwordHash: await hashPassword(password), role });
  if (!user) throw new Error(`user ${username} exists`);
  return user satisfies UserRecord;
}

export function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

export async function login(app: Hono<AppEnv>, username: string, password: string) {
  const res = await app.request(`${BASE}/api/auth/login`, jsonInit("POST", { username, password }));
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { token, setCookie: res.headers.get("set-cookie") ?? "" };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
