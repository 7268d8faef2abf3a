/** `GET /providers/detail` answers for the eavs tests, in the shape EAVS.md §7 documents. */

/** An OpenAI-compatible provider pi can reach through the fake's proxy, priced so that spend is visible. */
export const OPENROUTER = {
  name: "openrouter",
  type: "openrouter",
  pi_api: "openai-completions",
  oauth: false,
  has_api_key: true,
  models: [
    {
      id: "some/model",
      name: "Some Model",
      reasoning: true,
      input: ["text"],
      context_window: 200_000,
      max_tokens: 16_384,
      cost: { input: 3, output: 15, cache_read: 0.3 },
    },
    {
      // A shortlist entry without a name (eavs sends ""), with a modality pi does not know, and compat.
      id: "tiny",
      name: "",
      reasoning: false,
      input: ["text", "image", "pdf"],
      context_window: 32_000,
      max_tokens: 4096,
      cost: { input: 0.1, output: 0.2, cache_read: 0 },
      compat: { supportsDeveloperRole: false, maxTokensField: "max_tokens" },
    },
  ],
};

export const AZURE = {
  name: "azure",
  type: "azure",
  pi_api: "openai-responses",
  oauth: false,
  has_api_key: true,
  headers: { "api-key": "EAVS_API_KEY", "x-team": "research" },
  api_version: "2024-10-21",
  compat: { supports_store: false },
  models: [
    {
      id: "gpt-x",
      name: "GPT X",
      reasoning: false,
      context_window: 128_000,
      max_tokens: 8192,
      cost: { input: 2, output: 8, cache_read: 0.5 },
      // eavs versions add fields; the client must not mind.
      family: "gpt",
    },
  ],
  // eavs versions add fields; the client must not mind.
  region: "westeurope",
};

/** eavs' alias provider: skipped. */
export const DEFAULT_ALIAS = { ...OPENROUTER, name: "default", type: "openrouter" };

/** A provider type pi cannot speak to: skipped. */
export const OLLAMA = {
  name: "local",
  type: "ollama",
  pi_api: null,
  oauth: false,
  has_api_key: false,
  models: [],
};

export const CODEX = {
  name: "codex",
  type: "openai-codex",
  pi_api: "openai-codex-responses",
  oauth: true,
  has_api_key: false,
  models: [],
};

export const DETAILS = [OPENROUTER, AZURE, DEFAULT_ALIAS, OLLAMA, CODEX];
