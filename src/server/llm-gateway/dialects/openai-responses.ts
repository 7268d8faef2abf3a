import { z } from "zod";
import type { ApiDialect, TokenUsage } from "./dialect.ts";
import { eventJson, objectKey, type SseEvent, TokenCount, type UsageReader, usageMeter } from "./meter.ts";
import { bearerToken, bodyModel, openAiError } from "./shared.ts";

const USAGE = objectKey("usage");

const ResponseUsage = z.looseObject({
  input_tokens: TokenCount.nullish(),
  output_tokens: TokenCount.nullish(),
  input_tokens_details: z.looseObject({ cached_tokens: TokenCount.nullish() }).nullish(),
});
type ResponseUsage = z.infer<typeof ResponseUsage>;

const ResponseObject = z.looseObject({ usage: ResponseUsage.nullish() });

/**
 * The events that end a response and carry its usage. pi reads `response.completed` only; the gateway
 * also counts what an incomplete (max_output_tokens) or failed response used, as the provider bills it.
 */
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete", "response.failed"]);
const FinalEvent = z.looseObject({ type: z.string(), response: ResponseObject });

/**
 * pi's reading (`processResponsesStream` in pi-ai): `input_tokens` includes the cached ones, so `input`
 * is the difference and `cacheRead` the cached tokens; `output` is `output_tokens` (reasoning
 * included); the Responses API reports no cache writes.
 */
export function responseTokens(raw: ResponseUsage): TokenUsage {
  const cached = raw.input_tokens_details?.cached_tokens ?? 0;
  return {
    input: Math.max(0, (raw.input_tokens ?? 0) - cached),
    output: raw.output_tokens ?? 0,
    cacheRead: cached,
    cacheWrite: 0,
  };
}

class ResponsesReader implements UsageReader {
  private usage: TokenUsage | undefined;

  onEvent(event: SseEvent): void {
    const parsed = FinalEvent.safeParse(eventJson(event, USAGE));
    if (!parsed.success || !FINAL_EVENTS.has(parsed.data.type)) return;
    const raw = parsed.data.response.usage;
    if (raw) this.usage = responseTokens(raw);
  }

  /** A non-streamed response: the response object itself. */
  onJson(body: unknown): void {
    const parsed = ResponseObject.safeParse(body);
    if (parsed.success && parsed.data.usage) this.usage = responseTokens(parsed.data.usage);
  }

  result(): TokenUsage | undefined {
    return this.usage;
  }
}

/**
 * OpenAI Responses (`POST responses`). Usage always comes in the final `response.completed` event:
 * nothing to ask for.
 */
export const openAiResponses: ApiDialect = {
  api: "openai-responses",
  authHeader: (key) => ["authorization", `Bearer ${key}`],
  presentedKey: (request) => bearerToken(request),
  model: bodyModel,
  withUsageReported: (request) => request.body,
  error: openAiError,
  meter: (contentType) => usageMeter(contentType, new ResponsesReader()),
};
