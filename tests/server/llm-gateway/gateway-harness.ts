/**
 * A real LLM gateway on a real socket, without the rest of serve: a fresh platform DB, the key vault, the
 * token registry and the limits, with helpers to add users, sessions, providers and tokens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigSchema } from "../../../src/config/schema.ts";
import type { ProviderBodyInput } from "../../../src/protocol/llm.ts";
import { ProviderBody } from "../../../src/protocol/llm.ts";
import {
  DeltaMergeLoad,
  type DeltaMergeSettings,
  deltaMergeSettings,
} from "../../../src/server/llm-gateway/delta-merge/merge-load.ts";
import { LlmGateway } from "../../../src/server/llm-gateway/gateway.ts";
import { KeyVault } from "../../../src/server/llm-gateway/key-vault.ts";
import { LimitGuard } from "../../../src/server/llm-gateway/limit-guard.ts";
import type { LlmBackend } from "../../../src/server/llm-gateway/llm-backend.ts";
import { ProviderCatalog } from "../../../src/server/llm-gateway/provider-catalog.ts";
import { SessionTokens } from "../../../src/server/llm-gateway/session-tokens.ts";
import { ownershipFrom } from "../../../src/server/session-ownership.ts";
import { openStore, type Store } from "../../../src/server/store/index.ts";
import { sha256Hex } from "../../../src/shared/sha256.ts";

export interface GatewayHarness {
  dir: string;
  store: Store;
  /** The embedded back end, with its addProvider; the gateway's back end unless another was given. */
  catalog: ProviderCatalog;
  backend: LlmBackend;
  gateway: LlmGateway;
  tokens: SessionTokens;
  /** `http://127.0.0.1:PORT/llm` */
  base: string;
  logs: string[];
  addUser(username: string, role?: "user" | "admin"): string;
  /** Claims `sessionId` for `userId` and registers a fresh token for it (as that user's runner would). */
  session(userId: string, sessionId: string, runnerUser?: string | undefined): string;
  addProvider(body: ProviderBodyInput): void;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * `makeBackend`: what stands behind the gateway (default: the embedded catalog); `merge`: when it merges
 * streamed deltas (default: serve's defaults).
 */
export function startGateway(
  makeBackend?: (store: Store, vault: KeyVault, dir: string) => LlmBackend,
  merge: DeltaMergeSettings = deltaMergeSettings(ConfigSchema.parse({})),
): GatewayHarness {
  const dir = mkdtempSync("/tmp/oqto-gw-");
  const store = openStore(join(dir, "data"));
  const logs: string[] = [];
  const log = (message: string) => logs.push(message);
  const vault = KeyVault.open(join(dir, "data", "provider-keys.secret"), {});
  const catalog = new ProviderCatalog(store, vault, log);
  const backend = makeBackend?.(store, vault, dir) ?? catalog;
  const tokens = new SessionTokens();
  const ownership = ownershipFrom(store);
  const gateway = new LlmGateway({
    store,
    backend,
    tokens,
    ownership,
    guard: new LimitGuard(store),
    merge: new DeltaMergeLoad(merge),
    log,
  });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: (request) => gateway.handle(request),
  });
  return {
    dir,
    store,
    catalog,
    backend,
    gateway,
    tokens,
    base: `http://127.0.0.1:${server.port}/llm`,
    logs,
    addUser(username, role = "user") {
      const user = store.users.create({ username, passwordHash: "x", role });
      if (!user) throw new Error(`user ${username} exists`);
      return user.id;
    },
    session(userId, sessionId, runnerUser) {
      ownership.claim(sessionId, userId, "/w");
      const token = `oqtok_test_${++counter}_${crypto.randomUUID()}`;
      tokens.add(runnerUser, sha256Hex(token), sessionId);
      return token;
    },
    addProvider(body) {
      catalog.create(ProviderBody.parse(body));
    },
    async stop() {
      await server.stop(true);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A chat completions request as pi sends it (streaming, asking for usage). */
export function chatRequest(
  base: string,
  provider: string,
  token: string | undefined,
  body: unknown,
  init: RequestInit = {},
) {
  return fetch(`${base}/${provider}/chat/completions`, {
    method: "POST",
    ...init,
    headers: {
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(init.headers as Record<string, string> | undefined),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
