import { z } from "zod";
import type { ApiDialect, TokenUsage } from "./dialect.ts";
import { eventJson, objectKey, type SseEvent, TokenCount, type UsageReader, usageMeter } from "./meter.ts";
import { bearerToken, bodyModel, headerValue } from "./shared.ts";

const USAGE = objectKey("usage");

const MessageUsage = z.looseObject({
  input_tokens: TokenCount.nullish(),
  output_tokens: TokenCount.nullish(),
  cache_read_input_tokens: TokenCount.nullish(),
  cache_creation_input_tokens: TokenCount.nullish(),
});
type MessageUsage = z.infer<typeof MessageUsage>;

const MessageStart = z.looseObject({
  type: z.literal("message_start"),
  message: z.looseObject({ usage: MessageUsage }),
});
const MessageDelta = z.looseObject({ type: z.literal("message_delta"), usage: MessageUsage });
/** A non-streamed message. */
const Message = z.looseObject({ usage: MessageUsage });

/**
 * pi's reading (pi-ai's anthropic provider): `input` is `input_tokens` (cache reads and writes are
 * reported apart from it), `cacheRead` is `cache_read_input_tokens`, `cacheWrite` is
 * `cache_creation_input_tokens`, `output` is `output_tokens`.
 */
function messageTokens(raw: MessageUsage): TokenUsage {
  return {
    input: raw.input_tokens ?? 0,
    output: raw.output_tokens ?? 0,
    cacheRead: raw.cache_read_input_tokens ?? 0,
    cacheWrite: raw.cache_creation_input_tokens ?? 0,
  };
}

class MessagesReader implements UsageReader {
  private usage: TokenUsage | undefined;

  /**
   * `message_start` sets all four figures; each `message_delta` overwrites those it carries (its
   * `output_tokens` is cumulative), exactly as pi does. A stream cut after `message_start` still
   * reports the input it used.
   */
  onEvent(event: SseEvent): void {
    const json = eventJson(event, USAGE);
    if (json === undefined) return;
    const start = MessageStart.safeParse(json);
    if (start.success) {
      this.usage = messageTokens(start.data.message.usage);
      return;
    }
    const delta = MessageDelta.safeParse(json);
    if (!delta.success) return;
    const raw = delta.data.usage;
    const usage = this.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    this.usage = {
      input: raw.input_tokens ?? usage.input,
      output: raw.output_tokens ?? usage.output,
      cacheRead: raw.cache_read_input_tokens ?? usage.cacheRead,
      cacheWrite: raw.cache_creation_input_tokens ?? usage.cacheWrite,
    };
  }

  onJson(body: unknown): void {
    const parsed = Message.safeParse(body);
    if (parsed.success) this.usage = messageTokens(parsed.data.usage);
  }

  result(): TokenUsage | undefined {
    return this.usage;
  }
}

/** Anthropic's error types by HTTP status (docs.anthropic.com, "Errors"). */
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};
const KNOWN_ERROR_TYPES = new Set(Object.values(ERROR_TYPES));

/**
 * Anthropic's error envelope. Its `error.type` is one of Anthropic's own types: `code` when it is one,
 * else the type that goes with `status`. pi's client (the Anthropic SDK) reports the whole body as
 * `"<status> <body as JSON>"`, so `message` appears JSON-escaped there.
 */
function anthropicError(status: number, message: string, code: string): Response {
  const type = KNOWN_ERROR_TYPES.has(code)
    ? code
    : (ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"));
  return Response.json({ type: "error", error: { type, message } }, { status });
}

/**
 * Anthropic Messages (`POST v1/messages`). Usage always comes in `message_start` and `message_delta`:
 * nothing to ask for. pi sends its key in `x-api-key`, or as a Bearer token when it is an OAuth token
 * (`sk-ant-oat…`).
 */
export const anthropicMessages: ApiDialect = {
  api: "anthropic-messages",
  authHeader: (key) => ["x-api-key", key],
  presentedKey: (request) => headerValue(request, "x-api-key") ?? bearerToken(request),
  model: bodyModel,
  withUsageReported: (request) => request.body,
  error: anthropicError,
  meter: (contentType) => usageMeter(contentType, new MessagesReader()),
};
