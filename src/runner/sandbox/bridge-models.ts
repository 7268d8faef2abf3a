import { z } from "zod";

export interface BridgedModels {
  /** pi's models.json as the sandbox sees it: every http(s) base URL on the bridge. */
  modelsJson: Record<string, unknown>;
  /** First path segment of a bridge request → the base URL it stands for. */
  routes: Map<string, URL>;
}

const ModelEntry = z.looseObject({ baseUrl: z.string().optional() });
const ProviderEntry = z.looseObject({
  baseUrl: z.string().optional(),
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
 * Rewrites pi's models.json for a network-isolated sandbox: every provider and model base URL points at
 * `localBase/<route>` (the bridge). Keys are left alone: models.json names the environment variable that
 * holds the process's LLM token, which the gateway checks. Routes are numbered, not named, so no provider
 * name has to survive URL encoding. A base URL that is not http(s) stays as it is: pi reports it, and
 * nothing is forwarded for it.
 */
export function bridgeModels(
  modelsJson: z.infer<typeof BridgeableModelsJson>,
  localBase: string,
): BridgedModels {
  const routes = new Map<string, URL>();
  const providers: Record<string, unknown> = {};
  let index = 0;
  const route = (baseUrl: string | undefined): string | undefined => {
    const upstream = baseUrl === undefined ? undefined : httpUrl(baseUrl);
    if (!upstream) return baseUrl;
    const id = `r${index++}`;
    routes.set(id, upstream);
    return `${localBase}/${id}`;
  };
  for (const [name, provider] of Object.entries(modelsJson.providers)) {
    const baseUrl = route(provider.baseUrl);
    const models = provider.models?.map((model) => {
      const modelBase = route(model.baseUrl);
      return modelBase === undefined ? model : { ...model, baseUrl: modelBase };
    });
    providers[name] = {
      ...provider,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      ...(models && { models }),
    };
  }
  return { modelsJson: { ...modelsJson, providers }, routes };
}
