import { z } from "zod";

export interface BridgeRoute {
  /** The provider's (or model's) real base URL. */
  upstream: URL;
  /** pi's `api` for it: decides which header carries the key. */
  api?: string;
  /** The real key, put only into the provider's own auth header. */
  apiKey?: string;
}

export interface BridgedModels {
  /** pi's models.json as the sandbox sees it: base URLs on the bridge, keys replaced. */
  modelsJson: Record<string, unknown>;
  /** First path segment of a bridge request → where it goes. */
  routes: Map<string, BridgeRoute>;
}

const ModelEntry = z.looseObject({ baseUrl: z.string().optional(), api: z.string().optional() });
const ProviderEntry = z.looseObject({
  baseUrl: z.string().optional(),
  api: z.string().optional(),
  apiKey: z.string().optional(),
  models: z.array(ModelEntry).optional(),
});
export const BridgeableModelsJson = z.looseObject({ providers: z.record(z.string(), ProviderEntry) });

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites pi's models.json for a sandbox: every provider and model base URL points at
 * `localBase/<route>` (the bridge) and every key becomes the bridge's `token`; the real key stays
 * in the route, for the provider's own auth header only. Routes are numbered, not named, so no
 * provider name has to survive URL encoding. A base URL that is not http(s) stays as it is: pi
 * reports it, and nothing is forwarded for it.
 */
export function bridgeModels(
  modelsJson: z.infer<typeof BridgeableModelsJson>,
  localBase: string,
  token: string,
): BridgedModels {
  const routes = new Map<string, BridgeRoute>();
  const providers: Record<string, unknown> = {};
  let index = 0;
  const route = (
    baseUrl: string | undefined,
    api: string | undefined,
    apiKey: string | undefined,
  ): string | undefined => {
    const upstream = baseUrl === undefined ? undefined : httpUrl(baseUrl);
    if (!upstream) return baseUrl;
    const id = `r${index++}`;
    routes.set(id, {
      upstream,
      ...(api === undefined ? {} : { api }),
      ...(apiKey === undefined ? {} : { apiKey }),
    });
    return `${localBase}/${id}`;
  };
  for (const [name, provider] of Object.entries(modelsJson.providers)) {
    const { apiKey } = provider;
    const firstRoute = index;
    const baseUrl = route(provider.baseUrl, provider.api, apiKey);
    const models = provider.models?.map((model) => {
      const modelBase = route(model.baseUrl, model.api ?? provider.api, apiKey);
      return modelBase === undefined ? model : { ...model, baseUrl: modelBase };
    });
    // The bridge admits only requests carrying the token, so a bridged provider without a key
    // gets it too (and the bridge then forwards no key).
    const needsToken = apiKey !== undefined || index > firstRoute;
    providers[name] = {
      ...provider,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(needsToken ? { apiKey: token } : {}),
      ...(models && { models }),
    };
  }
  return { modelsJson: { ...modelsJson, providers }, routes };
}
