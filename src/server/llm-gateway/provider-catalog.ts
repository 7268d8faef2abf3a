import type { Provider, ProviderBody } from "../../protocol/llm.ts";
import { ApiError } from "../http-errors.ts";
import type { ProviderRecord, Store } from "../store/index.ts";
import type { KeyVault } from "./key-vault.ts";
import type { GatewayProvider, LlmBackend, Upstream } from "./llm-backend.ts";

/** A provider as the gateway forwards to it: the key opened, ready for the provider's auth header. */
interface LiveProvider extends GatewayProvider {
  record: ProviderRecord;
  upstream: Upstream;
}

/** The API view: never the key itself. */
export function toApiProvider(provider: ProviderRecord): Provider {
  return {
    name: provider.name,
    api: provider.api,
    base_url: provider.base_url,
    models: provider.models,
    has_api_key: provider.api_key_sealed !== null,
    created_at: provider.created_at,
    updated_at: provider.updated_at,
  };
}

/**
 * The admin's providers with their keys sealed at rest (KeyVault) and open in memory for the gateway: the
 * embedded back end, the same upstream and key for every user. Every change goes through here, so the
 * gateway's view never lags the database.
 */
export class ProviderCatalog implements LlmBackend {
  private live = new Map<string, LiveProvider>();

  constructor(
    private readonly store: Store,
    private readonly vault: KeyVault,
    private readonly log: (message: string) => void,
  ) {
    this.reload();
  }

  providers(): GatewayProvider[] {
    return [...this.live.values()];
  }

  provider(name: string): GatewayProvider | undefined {
    return this.live.get(name);
  }

  upstream(provider: GatewayProvider): Upstream {
    const live = this.live.get(provider.name);
    if (!live) throw new Error(`provider '${provider.name}' is gone`);
    return live.upstream;
  }

  /** The opened key of a provider, for the admin's connection test: it goes to that provider only. */
  storedKey(name: string): string | undefined {
    return this.live.get(name)?.upstream.apiKey;
  }

  list(): ProviderRecord[] {
    return [...this.live.values()].map((provider) => provider.record);
  }

  create(body: ProviderBody): ProviderRecord {
    const created = this.store.providers.insert({
      ...body,
      api_key_sealed: body.api_key === undefined ? null : this.vault.seal(body.api_key, body.name),
    });
    if (!created) throw new ApiError("CONFLICT", `a provider named '${body.name}' already exists`);
    this.reload();
    return created;
  }

  /** A body without `api_key` keeps the stored key. */
  update(body: ProviderBody): ProviderRecord {
    const current = this.store.providers.get(body.name);
    if (!current) throw notFound(body.name);
    const updated = this.store.providers.update({
      ...body,
      api_key_sealed:
        body.api_key === undefined ? current.api_key_sealed : this.vault.seal(body.api_key, body.name),
    });
    if (!updated) throw notFound(body.name);
    this.reload();
    return updated;
  }

  delete(name: string): void {
    if (!this.store.providers.delete(name)) throw notFound(name);
    this.reload();
  }

  private reload(): void {
    const next = new Map<string, LiveProvider>();
    for (const record of this.store.providers.list()) {
      let apiKey: string | undefined;
      if (record.api_key_sealed !== null) {
        try {
          apiKey = this.vault.open(record.api_key_sealed, record.name);
        } catch (error) {
          // The provider stays listed (the admin sees it and can enter the key again); requests get no key.
          this.log(`provider '${record.name}': ${(error as Error).message}`);
        }
      }
      next.set(record.name, {
        name: record.name,
        api: record.api,
        models: record.models,
        record,
        upstream: { baseUrl: new URL(record.base_url), apiKey },
      });
    }
    this.live = next;
  }
}

export function notFound(name: string): ApiError {
  return new ApiError("NOT_FOUND", `no provider named '${name}'`);
}
