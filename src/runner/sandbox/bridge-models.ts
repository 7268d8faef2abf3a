import { z } from "zod";

/**
 * Stands in for every provider key inside the sandbox; the bridge puts the real key back on the
 * way out, so an agent can use the LLM but never read (and leak) its key.
 */
export const BRIDGE_API_KEY = "oqto-llm-bridge";

export interface BridgeRoute {
  /** The provider's (or model's) real base URL. */
  upstream: URL;
  /** The real key that replaces BRIDGE_API_KEY in headers and query. */
  apiKey?: string;
}

export interface BridgedModels {
  /** pi's models.json as the sandbox sees it: base URLs on the bridge, keys replaced. */
  modelsJson: Record<string, unknown>;
  /** First path segment of a bridge request → where it goes. */
  routes: Map<string, BridgeRoute>;
}

const ModelEntry = z.looseObject({ baseUrl: z.string().optional() });
const ProviderEntry = z.looseObject({
  baseUrl: z.string().optional(),
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
 * Rewrites pi's models.json for a network-isolated sandbox: every provider and model base URL
 * points at `localBase/<route>` (the shim's loopback port) and every key becomes BRIDGE_API_KEY.
 * Routes are numbered, not named, so no provider name has to survive URL encoding. A base URL that
 * is not http(s) stays as it is: pi reports it, and nothing is forwarded for it.
 */
export function bridgeModels(
  modelsJson: z.infer<typeof BridgeableModelsJson>,
  localBase: string,
): BridgedModels {
  const routes = new Map<string, BridgeRoute>();
  const providers: Record<string, unknown> = {};
  let index = 0;
  const route = (baseUrl: string | undefined, apiKey: string | undefined): string | undefined => {
    const upstream = baseUrl === undefined ? undefined : httpUrl(baseUrl);
    if (!upstream) return baseUrl;
    const id = `r${index++}`;
    routes.set(id, { upstream, ...(apiKey === undefined ? {} : { apiKey }) });
    return `${localBase}/${id}`;
  };
  for (const [name, provider] of Object.entries(modelsJson.providers)) {
    const { apiKey } = provider;
    const baseUrl = route(provider.baseUrl, apiKey);
    providers[name] = {
      ...provider,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(apiKey === undefined ? {} : { apiKey: BRIDGE_API_KEY }),
      ...(provider.models && {
        models: provider.models.map((model) => {
          const modelBase = route(model.baseUrl, apiKey);
          return modelBase === undefined ? model : { ...model, baseUrl: modelBase };
        }),
      }),
    };
  }
  return { modelsJson: { ...modelsJson, providers }, routes };
}
