import { z } from "zod";
import type { ModelSpec, ProviderApi, ProviderProbeResult } from "../../protocol/llm.ts";
import { dialectFor } from "./dialects/index.ts";

const PROBE_TIMEOUT_MS = 10_000;
const MAX_MODELS = 500;

const OpenAiModels = z.looseObject({
  data: z.array(
    z.looseObject({
      id: z.string().min(1),
      name: z.string().optional(),
      /** OpenRouter's extras: the context size and USD per token. */
      context_length: z.number().int().positive().optional(),
      pricing: z
        .looseObject({ prompt: z.coerce.number().optional(), completion: z.coerce.number().optional() })
        .optional(),
    }),
  ),
});
const AnthropicModels = z.looseObject({
  data: z.array(z.looseObject({ id: z.string().min(1), display_name: z.string().optional() })),
});
const GoogleModels = z.looseObject({
  models: z.array(
    z.looseObject({
      name: z.string().min(1),
      displayName: z.string().optional(),
      inputTokenLimit: z.number().int().positive().optional(),
      outputTokenLimit: z.number().int().positive().optional(),
      supportedGenerationMethods: z.array(z.string()).optional(),
    }),
  ),
});

/** The model listing route below each API's base URL, as pi's clients address it. */
const LISTING: Record<ProviderApi, string> = {
  "openai-completions": "models",
  "openai-responses": "models",
  "anthropic-messages": "v1/models",
  "google-generative-ai": "models",
};

function toModels(api: ProviderApi, body: unknown): ModelSpec[] | undefined {
  if (api === "anthropic-messages") {
    return AnthropicModels.safeParse(body).data?.data.map((m) => ({
      id: m.id,
      ...(m.display_name && { name: m.display_name }),
    }));
  }
  if (api === "google-generative-ai") {
    return GoogleModels.safeParse(body)
      .data?.models.filter((m) => m.supportedGenerationMethods?.includes("generateContent") ?? true)
      .map((m) => ({
        id: m.name.replace(/^models\//, ""),
        ...(m.displayName && { name: m.displayName }),
        ...(m.inputTokenLimit && { context_window: m.inputTokenLimit }),
        ...(m.outputTokenLimit && { max_tokens: m.outputTokenLimit }),
      }));
  }
  return OpenAiModels.safeParse(body).data?.data.map((m) => {
    const input = m.pricing?.prompt;
    const output = m.pricing?.completion;
    return {
      id: m.id,
      ...(m.name && { name: m.name }),
      ...(m.context_length && { context_window: m.context_length }),
      ...(input !== undefined &&
        output !== undefined &&
        input >= 0 &&
        output >= 0 && {
          price: { input: input * 1e6, output: output * 1e6, cache_read: 0, cache_write: 0 },
        }),
    };
  });
}

/**
 * Tries a provider as the gateway would reach it: its model listing, with the key in the API's own header.
 * Never throws: an unreachable endpoint, a refused key or an unreadable answer is a result that says so.
 */
export async function probeProvider(options: {
  api: ProviderApi;
  baseUrl: string;
  apiKey: string | undefined;
  fetch?: typeof fetch;
}): Promise<ProviderProbeResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const base = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
  const headers = new Headers({ accept: "application/json" });
  if (options.apiKey !== undefined) headers.set(...dialectFor(options.api).authHeader(options.apiKey));
  if (options.api === "anthropic-messages") headers.set("anthropic-version", "2023-06-01");
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(new URL(LISTING[options.api], base), {
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch (error) {
    return {
      ok: false,
      latency_ms: latency(),
      message: `unreachable: ${(error as Error).message}`,
      models: [],
    };
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    const detail = text.slice(0, 300).replace(/\s+/g, " ").trim();
    return {
      ok: false,
      status: response.status,
      latency_ms: latency(),
      message: `${response.status} from the provider${detail ? `: ${detail}` : ""}`,
      models: [],
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      ok: false,
      status: response.status,
      latency_ms: latency(),
      message: "the model list is not JSON",
      models: [],
    };
  }
  const models = toModels(options.api, body);
  if (!models) {
    return {
      ok: false,
      status: response.status,
      latency_ms: latency(),
      message: "the provider answered, but not with a model list this API type lists models in",
      models: [],
    };
  }
  const unique = [...new Map(models.map((model) => [model.id, model])).values()].slice(0, MAX_MODELS);
  return {
    ok: true,
    status: response.status,
    latency_ms: latency(),
    message: `${unique.length} model${unique.length === 1 ? "" : "s"}`,
    models: unique,
  };
}
