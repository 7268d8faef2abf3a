import { resolveEnvRef } from "../../config/env-ref.ts";
import { ConfigError } from "../../config/load.ts";
import { dataPaths } from "../../config/paths.ts";
import type { Config } from "../../config/schema.ts";
import { EavsClient } from "../../llm/eavs/eavs-client.ts";
import type { SessionOwnership } from "../mux/agent-channel.ts";
import type { Store } from "../store/index.ts";
import { DeltaMergeLoad, type DeltaMergeSettings } from "./delta-merge/merge-load.ts";
import { EavsBackend } from "./eavs-backend.ts";
import { LlmGateway } from "./gateway.ts";
import { KeyVault } from "./key-vault.ts";
import { LimitGuard } from "./limit-guard.ts";
import type { LlmBackend } from "./llm-backend.ts";
import { ProviderCatalog } from "./provider-catalog.ts";
import { SessionTokens } from "./session-tokens.ts";

/** Everything serve needs for LLM access: the providers with their keys, the live tokens, limits, the gateway. */
export interface LlmAccess {
  /** The admin's own providers (embedded mode; in eavs mode it is kept but the gateway does not use it). */
  catalog: ProviderCatalog;
  /** What the gateway forwards to: eavs when `[eavs]` is configured, else the catalog. */
  backend: LlmBackend;
  /** eavs mode only. Call `start()` before serving. */
  eavs: EavsBackend | undefined;
  tokens: SessionTokens;
  guard: LimitGuard;
  gateway: LlmGateway;
}

export function createLlmAccess(options: {
  store: Store;
  dataDir: string;
  ownership: SessionOwnership;
  log: (message: string) => void;
  /** `config.eavs`: when set, the eavs back end. */
  eavs?: Config["eavs"];
  /** `deltaMergeSettings(config)`: when the gateway merges streamed deltas. */
  merge: DeltaMergeSettings;
  /** Where `env:VAR` and the vault secret are looked up (tests pass their own). */
  env?: Record<string, string | undefined>;
}): LlmAccess {
  const { store, log } = options;
  const env = options.env ?? process.env;
  const vault = KeyVault.open(dataPaths(options.dataDir).keyVaultSecret, env);
  const catalog = new ProviderCatalog(store, vault, log);
  let eavs: EavsBackend | undefined;
  if (options.eavs) {
    let masterKey: string;
    try {
      masterKey = resolveEnvRef(options.eavs.master_key, "eavs.master_key", env);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const client = new EavsClient({
      baseUrl: options.eavs.url,
      masterKey,
      timeoutMs: Math.max(1, Math.round(options.eavs.timeout_s * 1000)),
    });
    eavs = new EavsBackend({ store, vault, client, log });
  }
  const backend: LlmBackend = eavs ?? catalog;
  const tokens = new SessionTokens();
  const guard = new LimitGuard(store);
  const gateway = new LlmGateway({
    store,
    backend,
    tokens,
    ownership: options.ownership,
    guard,
    merge: new DeltaMergeLoad(options.merge),
    log,
  });
  return { catalog, backend, eavs, tokens, guard, gateway };
}
