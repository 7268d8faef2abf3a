import type { ModelSpec, ProviderApi } from "../../protocol/llm.ts";

/** A provider as pi sees it through the gateway (and as models.json lists it): never a key. */
export interface GatewayProvider {
  name: string;
  api: ProviderApi;
  models: readonly ModelSpec[];
}

/** Where one user's request to a provider goes, and with which credential. */
export interface Upstream {
  baseUrl: URL;
  /** Put into the provider's own auth header; undefined: the upstream needs none. */
  apiKey: string | undefined;
  /** More headers the upstream needs, set after the auth header (eavs: the key as a Bearer token too). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * What stands behind the gateway: the admin's own providers with their sealed keys (the embedded back
 * end), or an eavs proxy with one virtual key per user. The gateway's checks, streaming and metering are
 * the same for both; tests/contract/llm-gateway.test.ts runs against each.
 */
export interface LlmBackend {
  /** Every provider, oldest first (the first one's first model is the default). */
  providers(): GatewayProvider[];
  provider(name: string): GatewayProvider | undefined;
  /**
   * The upstream of `provider` for `userId`, or why that user has no access (`reason`). May be a promise:
   * eavs makes a user's virtual key at their first request when they have none yet.
   */
  upstream(
    provider: GatewayProvider,
    userId: string,
  ): Upstream | { reason: string } | Promise<Upstream | { reason: string }>;
}
