/**
 * The eavs back end (EAVS.md): the providers are those eavs lists (`GET /providers/detail`), and each
 * user's requests go to eavs' path-prefix route `<eavs url>/<provider>/v1/…` with that user's own virtual
 * key, which carries their permissions and budget. The provider keys stay in eavs; the virtual keys stay in
 * this process and the platform DB (sealed): pi only ever holds its session token for the gateway.
 */
import type { EavsClient } from "../../llm/eavs/eavs-client.ts";
import type { ProviderDetail, ProviderModel, QuotaSnapshot } from "../../llm/eavs/eavs-schemas.ts";
import type { EavsStatus } from "../../protocol/eavs.ts";
import { ModelSpec, type Provider, ProviderApi, ProviderName } from "../../protocol/llm.ts";
import type { Store } from "../store/index.ts";
import { EavsKeys } from "./eavs-keys.ts";
import type { KeyVault } from "./key-vault.ts";
import type { GatewayProvider, LlmBackend, Upstream } from "./llm-backend.ts";

/** eavs' alias provider: it stands for another one, so the gateway does not offer it twice. */
const ALIAS_PROVIDER = "default";
/** The header value eavs puts where the caller's key belongs (EAVS.md §7). */
const KEY_PLACEHOLDER = "EAVS_API_KEY";
/** A cached provider list older than this is re-read (in the background) when next used. */
export const PROVIDERS_STALE_MS = 5 * 60_000;
/** After a failed read, the next attempt comes no sooner than this. */
const RETRY_AFTER_FAILURE_MS = 30_000;
/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers eavs' provider detail may list that the gateway must not set itself. */
const FORBIDDEN_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "cookie"]);
/**
 * The APIs whose dialect puts the key somewhere else than `Authorization: Bearer` (x-api-key,
 * x-goog-api-key). eavs reads a virtual key from the Bearer header (EAVS.md §4: whether it also reads
 * `x-api-key` is unverified), so for these the key goes in both.
 */
const NON_BEARER_APIS: ReadonlySet<ProviderApi> = new Set(["anthropic-messages", "google-generative-ai"]);

/** A provider as eavs offers it through the gateway. */
interface EavsProvider extends GatewayProvider {
  /** `<eavs url>/<name>/v1`, or `<eavs url>/<name>` for anthropic-messages (pi appends `v1/messages`). */
  baseUrl: URL;
  /** Extra headers eavs' detail asks for; the placeholder value becomes the user's key. */
  headers: Readonly<Record<string, string>>;
}

export interface SkippedProvider {
  name: string;
  reason: string;
}

/**
 * The URL the gateway forwards to, below which it appends pi's path unchanged. pi's OpenAI clients and its
 * Google client append their paths (`chat/completions`, `responses`, `models/<m>:streamGenerateContent`)
 * below a base ending in `/v1`, which is eavs' `/{provider}/v1/*` route; pi's Anthropic client (the
 * Anthropic SDK) appends `v1/messages` itself, so its base ends at the provider.
 */
export function eavsBaseUrl(eavsUrl: string, provider: string, api: ProviderApi): URL {
  const base = `${eavsUrl.replace(/\/+$/, "")}/${encodeURIComponent(provider)}`;
  return new URL(api === "anthropic-messages" ? base : `${base}/v1`);
}

/** One eavs model as the gateway and models.json need it; optional fields that do not fit are left out. */
export function toModelSpec(model: ProviderModel): ModelSpec | undefined {
  const input = [...new Set((model.input ?? []).filter((kind) => kind === "text" || kind === "image"))];
  const candidate: Record<string, unknown> = {
    id: model.id,
    ...(model.name && { name: model.name }),
    context_window: model.context_window,
    max_tokens: model.max_tokens,
    reasoning: model.reasoning,
    ...(input.length > 0 && { input }),
    // eavs has no cache-write price: the input price is the closest (EAVS.md §7).
    price: {
      input: model.cost.input,
      output: model.cost.output,
      cache_read: model.cost.cache_read,
      cache_write: model.cost.input,
    },
  };
  for (;;) {
    const parsed = ModelSpec.safeParse(candidate);
    if (parsed.success) return parsed.data;
    const fields = new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? "")));
    if (fields.has("id") || fields.has("")) return undefined;
    for (const field of fields) delete candidate[field];
  }
}

/**
 * eavs' providers as the gateway offers them: those whose `pi_api` is one of the four APIs the gateway
 * relays (not `null`, not `openai-codex-responses`), not the alias `default`, with a name that is a valid
 * Oqto provider name and at least one usable model. The first of two with one name wins (eavs lists its
 * config providers before admin-added ones, and config wins there too).
 */
export function toGatewayProviders(
  details: readonly ProviderDetail[],
  eavsUrl: string,
): { providers: EavsProvider[]; skipped: SkippedProvider[] } {
  const providers: EavsProvider[] = [];
  const skipped: SkippedProvider[] = [];
  const seen = new Set<string>();
  for (const detail of details) {
    const skip = (reason: string) => skipped.push({ name: detail.name, reason });
    if (detail.name === ALIAS_PROVIDER) {
      skip("eavs' alias of another provider");
      continue;
    }
    const api = ProviderApi.safeParse(detail.pi_api);
    if (!api.success) {
      skip(
        detail.pi_api === null
          ? `pi cannot speak to eavs' provider type '${detail.type}'`
          : `Oqto's gateway does not relay the ${detail.pi_api} API`,
      );
      continue;
    }
    if (!ProviderName.safeParse(detail.name).success) {
      skip("the name is not a valid Oqto provider name (a-z, 0-9, '_', '-'; at most 64)");
      continue;
    }
    if (seen.has(detail.name)) continue;
    seen.add(detail.name);
    const models: ModelSpec[] = [];
    const ids = new Set<string>();
    for (const model of detail.models) {
      const spec = toModelSpec(model);
      if (!spec || ids.has(spec.id)) continue;
      ids.add(spec.id);
      models.push(spec);
    }
    if (models.length === 0) {
      skip("eavs lists no model for it that Oqto can use");
      continue;
    }
    const headers = Object.fromEntries(
      Object.entries(detail.headers ?? {}).filter(
        ([name]) => HEADER_NAME.test(name) && !FORBIDDEN_HEADERS.has(name.toLowerCase()),
      ),
    );
    providers.push({
      name: detail.name,
      api: api.data,
      models,
      baseUrl: eavsBaseUrl(eavsUrl, detail.name, api.data),
      headers,
    });
  }
  return { providers, skipped };
}

export interface EavsBackendOptions {
  store: Store;
  vault: KeyVault;
  client: EavsClient;
  log: (message: string) => void;
  /** Called when a background re-read changed the providers (serve pushes models.json). Must not throw. */
  onProvidersChanged?: () => void;
  staleAfterMs?: number;
  now?: () => number;
}

function fingerprint(providers: readonly GatewayProvider[]): string {
  return JSON.stringify(providers.map(({ name, api, models }) => ({ name, api, models })));
}

export class EavsBackend implements LlmBackend {
  readonly keys: EavsKeys;
  /** Set by serve once the runners exist. */
  onProvidersChanged: () => void;
  private cache: EavsProvider[] = [];
  private skipped: SkippedProvider[] = [];
  private refreshedAt: number | null = null;
  private lastAttemptAt: number | null = null;
  private lastError: string | null = null;
  private refreshing: Promise<{ changed: boolean }> | undefined;
  private readonly staleAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly options: EavsBackendOptions) {
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? PROVIDERS_STALE_MS;
    this.onProvidersChanged = options.onProvidersChanged ?? (() => {});
    this.keys = new EavsKeys({
      store: options.store,
      vault: options.vault,
      client: options.client,
      log: options.log,
      now: this.now,
    });
  }

  get url(): string {
    return this.options.client.baseUrl;
  }

  /** Reads the providers and settles the keys left over from before; eavs being down is logged, not thrown. */
  async start(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.options.log(`eavs: ${(error as Error).message}; the provider list stays empty until eavs answers`);
    }
    await this.keys.reconcile();
  }

  providers(): GatewayProvider[] {
    this.refreshIfStale();
    return [...this.cache];
  }

  provider(name: string): GatewayProvider | undefined {
    this.refreshIfStale();
    return this.cache.find((provider) => provider.name === name);
  }

  async upstream(provider: GatewayProvider, userId: string): Promise<Upstream | { reason: string }> {
    const live =
      this.cache.find((candidate) => candidate.name === provider.name) ?? (provider as Partial<EavsProvider>);
    if (!(live.baseUrl instanceof URL))
      return { reason: `eavs no longer offers provider '${provider.name}'` };
    const key = await this.keys.keyOf(userId);
    if ("reason" in key) return key;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(live.headers ?? {})) {
      headers[name] = value === KEY_PLACEHOLDER ? key.key : value;
    }
    if (NON_BEARER_APIS.has(provider.api)) headers.authorization = `Bearer ${key.key}`;
    return { baseUrl: live.baseUrl, apiKey: key.key, headers };
  }

  /**
   * Re-reads `GET /providers/detail` now (one read at a time). Throws eavs' error as an ApiError
   * (SERVICE_UNAVAILABLE when unreachable, BAD_GATEWAY for an unexpected answer); the old list stays.
   */
  refresh(): Promise<{ changed: boolean }> {
    if (this.refreshing) return this.refreshing;
    this.lastAttemptAt = this.now();
    const run = async () => {
      try {
        const details = await this.options.client.providersDetail();
        const { providers, skipped } = toGatewayProviders(details, this.url);
        const changed = fingerprint(providers) !== fingerprint(this.cache);
        if (changed || JSON.stringify(skipped) !== JSON.stringify(this.skipped)) {
          for (const skip of skipped)
            this.options.log(`eavs: provider '${skip.name}' not offered: ${skip.reason}`);
        }
        this.cache = providers;
        this.skipped = skipped;
        this.refreshedAt = this.now();
        this.lastError = null;
        return { changed };
      } catch (error) {
        this.lastError = (error as Error).message;
        throw error;
      }
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The providers in the admin API's shape (read-only in eavs mode): eavs holds their keys. */
  apiProviders(): Provider[] {
    const at = this.refreshedAt ?? 0;
    return this.providers().map((provider) => ({
      name: provider.name,
      api: provider.api,
      base_url: (provider as EavsProvider).baseUrl.href,
      models: [...provider.models],
      has_api_key: true,
      created_at: at,
      updated_at: at,
    }));
  }

  /** eavs' `GET /admin/quotas`: the providers' own rate-limit headers last seen. */
  quotas(): Promise<QuotaSnapshot[]> {
    return this.options.client.quotas();
  }

  /** What Oqto knows of eavs, its providers and every user's key, without calling eavs. */
  status(): EavsStatus {
    const { store } = this.options;
    const keys = new Map(store.eavsKeys.list().map((row) => [row.user_id, row]));
    const problems = this.keys.problemsByUser();
    return {
      url: this.url,
      providers: {
        count: this.cache.length,
        refreshed_at: this.refreshedAt,
        error: this.lastError,
        skipped: this.skipped,
      },
      keys: store.users.list().map((user) => {
        const key = keys.get(user.id);
        return {
          user_id: user.id,
          username: user.username,
          is_active: user.is_active,
          key_id: key?.key_id ?? null,
          created_at: key?.created_at ?? null,
          problem: problems.get(user.id) ?? null,
        };
      }),
      pending_revocations: store.eavsKeys.pendingRevocations(),
    };
  }

  /** A stale list is re-read behind the caller, which gets the cached one now. */
  private refreshIfStale(): void {
    if (this.refreshing) return;
    const now = this.now();
    const fresh = this.refreshedAt !== null && now - this.refreshedAt < this.staleAfterMs;
    const backingOff =
      this.lastError !== null &&
      this.lastAttemptAt !== null &&
      now - this.lastAttemptAt < RETRY_AFTER_FAILURE_MS;
    if (fresh || backingOff) return;
    this.refresh().then(
      ({ changed }) => {
        if (changed) this.onProvidersChanged();
      },
      (error: Error) => this.options.log(`eavs: could not re-read the providers: ${error.message}`),
    );
  }
}
