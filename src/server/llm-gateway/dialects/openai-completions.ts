import { z } from "zod";
import type { ApiDialect, DialectRequest, TokenUsage } from "./dialect.ts";
import { eventJson, objectKey, TokenCount, type UsageReader, usageMeter } from "./meter.ts";
import { bearerToken, bodyModel, openAiError } from "./shared.ts";

const USAGE = objectKey("usage");

const CompletionUsage = z.looseObject({
  prompt_tokens: TokenCount.nullish(),
  completion_tokens: TokenCount.nullish(),
  prompt_tokens_details: z
    .looseObject({ cached_tokens: TokenCount.nullish(), cache_write_tokens: TokenCount.nullish() })
    .nullish(),
  /** DeepSeek's name for cached prompt tokens. */
  prompt_cache_hit_tokens: TokenCount.nullish(),
});
type CompletionUsage = z.infer<typeof CompletionUsage>;

/** A stream chunk or a whole `chat.completion`: usage at the top, or (Moonshot) in the first choice. */
const Completion = z.looseObject({
  usage: CompletionUsage.nullish(),
  choices: z.array(z.looseObject({ usage: CompletionUsage.nullish() })).nullish(),
});

/**
 * pi's reading (`parseChunkUsage` in pi-ai's openai-completions provider): `cacheWrite` is
 * `prompt_tokens_details.cache_write_tokens`; `cacheRead` is the cached tokens less those just written
 * (OpenRouter counts both as cached); `input` is the prompt less both; `output` is `completion_tokens`,
 * which already includes reasoning tokens.
 */
export function completionTokens(raw: CompletionUsage): TokenUsage {
  const prompt = raw.prompt_tokens ?? 0;
  const cached = raw.prompt_tokens_details?.cached_tokens ?? raw.prompt_cache_hit_tokens ?? 0;
  const cacheWrite = raw.prompt_tokens_details?.cache_write_tokens ?? 0;
  const cacheRead = cacheWrite > 0 ? Math.max(0, cached - cacheWrite) : cached;
  return {
    input: Math.max(0, prompt - cacheRead - cacheWrite),
    output: raw.completion_tokens ?? 0,
    cacheRead,
    cacheWrite,
  };
}

class CompletionsReader implements UsageReader {
  private usage: TokenUsage | undefined;

  onEvent(event: { event: string | undefined; data: string }): void {
    const json = eventJson(event, USAGE);
    if (json !== undefined) this.onJson(json);
  }

  /** Like pi, the last chunk that carries usage wins. */
  onJson(body: unknown): void {
    const parsed = Completion.safeParse(body);
    if (!parsed.success) return;
    const raw = parsed.data.usage ?? parsed.data.choices?.[0]?.usage;
    if (raw) this.usage = completionTokens(raw);
  }

  result(): TokenUsage | undefined {
    return this.usage;
  }
}

const StreamingRequest = z.looseObject({
  stream: z.literal(true),
  stream_options: z.looseObject({}).nullish(),
});

/**
 * OpenAI Chat Completions (`POST chat/completions`). A streamed completion reports usage only when
 * asked with `stream_options.include_usage`, in a last chunk with empty `choices`.
 */
export const openAiCompletions: ApiDialect = {
  api: "openai-completions",
  authHeader: (key) => ["authorization", `Bearer ${key}`],
  presentedKey: (request) => bearerToken(request),
  model: bodyModel,
  withUsageReported(request: DialectRequest): unknown {
    const parsed = StreamingRequest.safeParse(request.body);
    // Unchanged when pi asked already: the gateway then forwards the bytes it read, not a re-encoding.
    if (!parsed.success || parsed.data.stream_options?.include_usage === true) return request.body;
    const body = request.body as Record<string, unknown>;
    return { ...body, stream_options: { ...parsed.data.stream_options, include_usage: true } };
  },
  error: openAiError,
  meter: (contentType) => usageMeter(contentType, new CompletionsReader()),
};
