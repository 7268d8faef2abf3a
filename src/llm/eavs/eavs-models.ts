/** pi's models.json for one user, from eavs' `GET /providers/detail` (EAVS.md §7 steps 2-3). */
import type { PiModelConfig, PiModelInput, PiModelsJson, PiProviderConfig } from "../models-json.ts";
import type { ProviderDetail, ProviderModel } from "./eavs-schemas.ts";

/** The header value eavs puts where the caller's key belongs. */
export const EAVS_KEY_PLACEHOLDER = "EAVS_API_KEY";
/** `apiKey` for a user without a virtual key (pi needs some value). */
export const NO_VIRTUAL_KEY = "not-needed";
/** eavs' alias provider: it stands for another provider, so it gets no pi provider of its own. */
export const EAVS_ALIAS_PROVIDER = "default";
/** Prefix of every pi provider that goes through eavs. */
export const EAVS_PROVIDER_PREFIX = "eavs-";

export interface EavsModelsJsonOptions {
  /** `eavs.base_url`, as pi reaches eavs. */
  baseUrl: string;
  /** The user's virtual key; none gives `apiKey: "not-needed"`. */
  virtualKey?: string | null;
}

const PI_INPUTS: ReadonlySet<string> = new Set<PiModelInput>(["text", "image"]);

/** The pi provider name of an eavs provider. */
export function eavsPiProviderName(eavsProvider: string): string {
  return `${EAVS_PROVIDER_PREFIX}${eavsProvider}`;
}

/**
 * pi accepts only "text" and "image"; models.dev also lists e.g. "audio" or "pdf", which would make pi refuse
 * the whole file. Those are dropped; nothing left (or no list) means ["text"].
 */
function piInput(input: readonly string[] | null | undefined): PiModelInput[] {
  const kept = [...new Set((input ?? []).filter((m): m is PiModelInput => PI_INPUTS.has(m)))];
  return kept.length > 0 ? kept : ["text"];
}

function piModel(model: ProviderModel): PiModelConfig {
  return {
    id: model.id,
    name: model.name || model.id,
    reasoning: model.reasoning,
    input: piInput(model.input),
    contextWindow: model.context_window,
    maxTokens: model.max_tokens,
    cost: {
      input: model.cost.input,
      output: model.cost.output,
      cacheRead: model.cost.cache_read,
      // eavs has no cache-write price; the input price is the closest (EAVS.md §7).
      cacheWrite: model.cost.input,
    },
    ...(model.compat && { compat: { ...model.compat } }),
  };
}

function piHeaders(
  headers: Record<string, string> | null | undefined,
  key: string,
): Record<string, string> | undefined {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([name, value]) => [name, value === EAVS_KEY_PLACEHOLDER ? key : value]),
  );
}

/**
 * One pi provider `eavs-<name>` per eavs provider that pi can speak to (`pi_api` set), except the alias
 * provider `default`. Each points at eavs' path-prefix route `<base_url>/<name>/v1`, with the user's
 * virtual key as a literal `apiKey` (and in place of every `EAVS_API_KEY` header placeholder).
 * Provider-level `compat` is not used; per-model `compat` is passed through as-is.
 */
export function buildEavsModelsJson(
  details: readonly ProviderDetail[],
  options: EavsModelsJsonOptions,
): PiModelsJson {
  const base = options.baseUrl.replace(/\/+$/, "");
  const key = options.virtualKey || NO_VIRTUAL_KEY;
  const providers: Record<string, PiProviderConfig> = {};
  for (const detail of details) {
    if (detail.pi_api === null || detail.name === EAVS_ALIAS_PROVIDER) continue;
    const name = eavsPiProviderName(detail.name);
    // eavs lists config providers before admin-added ones and lets config win a name clash: so does this.
    if (Object.hasOwn(providers, name)) continue;
    const headers = piHeaders(detail.headers, key);
    const seen = new Set<string>();
    const models = detail.models.filter((model) => {
      if (seen.has(model.id)) return false;
      seen.add(model.id);
      return true;
    });
    providers[name] = {
      baseUrl: `${base}/${encodeURIComponent(detail.name)}/v1`,
      api: detail.pi_api,
      apiKey: key,
      ...(headers && { headers }),
      models: models.map(piModel),
    };
  }
  return { providers };
}
