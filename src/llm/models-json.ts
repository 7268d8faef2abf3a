import type { ProviderBody } from "../protocol/rest.ts";

/** The subset of pi's models.json (PI-RPC.md §8) that Oqto generates. */
export interface PiModelsJson {
  providers: Record<string, PiProviderConfig>;
}

export interface PiProviderConfig {
  baseUrl: string;
  api: ProviderBody["api"];
  apiKey: string;
  compat?: PiOpenAiCompat;
  models: { id: string; name: string }[];
}

/** pi's `OpenAICompletionsCompat` flags that Oqto sets explicitly. */
export interface PiOpenAiCompat {
  supportsDeveloperRole: boolean;
  supportsReasoningEffort: boolean;
  supportsStore: boolean;
  supportsStrictMode: boolean;
  maxTokensField: "max_tokens" | "max_completion_tokens";
}

/** The default-model keys merged into pi's settings.json. */
export interface PiDefaultModelSettings {
  defaultProvider?: string;
  defaultModel?: string;
}

/**
 * pi guesses these flags from the base URL, and its guesses fit api.openai.com. Generic OpenAI-compatible
 * servers (vLLM, llama.cpp, Ollama, gateways) reject the `developer` role, `reasoning_effort`, `store`,
 * `strict` tool schemas and `max_completion_tokens`, so every openai-completions provider gets the
 * conservative set that all of them accept.
 */
const GENERIC_OPENAI_COMPAT: PiOpenAiCompat = {
  supportsDeveloperRole: false,
  supportsReasoningEffort: false,
  supportsStore: false,
  supportsStrictMode: false,
  maxTokensField: "max_tokens",
};

/** Builds pi's models.json from the admin-configured providers. */
export function buildModelsJson(providers: readonly ProviderBody[]): PiModelsJson {
  const entries = providers.map((provider): [string, PiProviderConfig] => [
    provider.name,
    {
      baseUrl: provider.base_url,
      api: provider.api,
      apiKey: provider.api_key,
      ...(provider.api === "openai-completions" && { compat: { ...GENERIC_OPENAI_COMPAT } }),
      models: provider.models.map((id) => ({ id, name: id })),
    },
  ]);
  return { providers: Object.fromEntries(entries) };
}

/** The first provider's first model becomes every user's default; no providers means no defaults. */
export function buildSettings(providers: readonly ProviderBody[]): PiDefaultModelSettings {
  const first = providers[0];
  const model = first?.models[0];
  if (!first || model === undefined) return {};
  return { defaultProvider: first.name, defaultModel: model };
}
