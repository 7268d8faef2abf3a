import type { ModelSpec, ProviderApi } from "../protocol/llm.ts";

/** The subset of pi's models.json (PI-RPC.md §8) that Oqto generates. */
export interface PiModelsJson {
  providers: Record<string, PiProviderConfig>;
}

/** The pi APIs Oqto writes: the admin-configurable ones plus those eavs maps provider types to (EAVS.md §7). */
export type PiApi = ProviderApi | "openai-codex-responses";

export interface PiProviderConfig {
  baseUrl: string;
  api: PiApi;
  apiKey: string;
  /** Extra request headers; values are literals (EAVS.md §7). */
  headers?: Record<string, string>;
  compat?: PiOpenAiCompat;
  models: PiModelConfig[];
}

/** One model of a provider; the optional fields are pi's defaults when absent. */
export interface PiModelConfig {
  id: string;
  name: string;
  reasoning?: boolean;
  input?: PiModelInput[];
  contextWindow?: number;
  maxTokens?: number;
  /** USD per million tokens. */
  cost?: PiModelCost;
  /** Passed to pi as-is (eavs' per-model compat, EAVS.md §7). */
  compat?: Record<string, unknown>;
}

export type PiModelInput = "text" | "image";

export interface PiModelCost {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
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

/** What models.json needs of a provider: never its key, which stays in the gateway. */
export interface GatewayProvider {
  name: string;
  api: ProviderApi;
  models: readonly ModelSpec[];
}

function piModel(model: ModelSpec): PiModelConfig {
  return {
    id: model.id,
    name: model.name ?? model.id,
    ...(model.reasoning !== undefined && { reasoning: model.reasoning }),
    ...(model.input && { input: [...model.input] }),
    ...(model.context_window !== undefined && { contextWindow: model.context_window }),
    ...(model.max_tokens !== undefined && { maxTokens: model.max_tokens }),
    ...(model.price && {
      cost: {
        input: model.price.input,
        output: model.price.output,
        cacheRead: model.price.cache_read,
        cacheWrite: model.price.cache_write,
      },
    }),
  };
}

/**
 * Builds pi's models.json from the admin-configured providers: every provider points at the gateway
 * (`<gatewayBase>/<name>`), and its key is the name of the environment variable in which the runner hands
 * each pi process its own session token. The file holds no secret.
 */
export function buildModelsJson(
  providers: readonly GatewayProvider[],
  gatewayBase: string,
  tokenEnv: string,
): PiModelsJson {
  const entries = providers.map((provider): [string, PiProviderConfig] => [
    provider.name,
    {
      baseUrl: `${gatewayBase}/${provider.name}`,
      api: provider.api,
      apiKey: tokenEnv,
      ...(provider.api === "openai-completions" && { compat: { ...GENERIC_OPENAI_COMPAT } }),
      models: provider.models.map(piModel),
    },
  ]);
  return { providers: Object.fromEntries(entries) };
}

/** The first provider's first model becomes every user's default; no providers means no defaults. */
export function buildSettings(providers: readonly GatewayProvider[]): PiDefaultModelSettings {
  const first = providers[0];
  const model = first?.models[0];
  if (!first || model === undefined) return {};
  return { defaultProvider: first.name, defaultModel: model.id };
}
