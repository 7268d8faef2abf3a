import { z } from "zod";
import type { ApiDialect, DialectRequest, TokenUsage } from "./dialect.ts";
import { eventJson, objectKey, type SseEvent, TokenCount, type UsageReader, usageMeter } from "./meter.ts";
import { headerValue } from "./shared.ts";

const USAGE = objectKey("usageMetadata");

const UsageMetadata = z.looseObject({
  promptTokenCount: TokenCount.nullish(),
  candidatesTokenCount: TokenCount.nullish(),
  thoughtsTokenCount: TokenCount.nullish(),
  cachedContentTokenCount: TokenCount.nullish(),
});
type UsageMetadata = z.infer<typeof UsageMetadata>;

const GenerateContentResponse = z.looseObject({ usageMetadata: UsageMetadata.nullish() });

/**
 * pi's reading (pi-ai's google provider): `promptTokenCount` includes the cached tokens, so `input` is
 * the difference and `cacheRead` the cached count; `output` is candidates plus thoughts; Gemini
 * reports no cache writes.
 */
function metadataTokens(raw: UsageMetadata): TokenUsage {
  const cached = raw.cachedContentTokenCount ?? 0;
  return {
    input: Math.max(0, (raw.promptTokenCount ?? 0) - cached),
    output: (raw.candidatesTokenCount ?? 0) + (raw.thoughtsTokenCount ?? 0),
    cacheRead: cached,
    cacheWrite: 0,
  };
}

class GenerateContentReader implements UsageReader {
  private usage: TokenUsage | undefined;

  /** Every chunk may carry `usageMetadata`; like pi, the last one wins. */
  onEvent(event: SseEvent): void {
    const json = eventJson(event, USAGE);
    if (json !== undefined) this.read(json);
  }

  /** `generateContent` answers one object; `streamGenerateContent` without `alt=sse` a JSON array. */
  onJson(body: unknown): void {
    for (const item of Array.isArray(body) ? body : [body]) this.read(item);
  }

  private read(json: unknown): void {
    const parsed = GenerateContentResponse.safeParse(json);
    if (parsed.success && parsed.data.usageMetadata) this.usage = metadataTokens(parsed.data.usageMetadata);
  }

  result(): TokenUsage | undefined {
    return this.usage;
  }
}

/** `models/<model>:streamGenerateContent` or `:generateContent`, possibly below a version segment. */
const MODEL_PATH = /(?:^|\/)models\/([^/:]+):(?:streamGenerateContent|generateContent)$/;

function pathModel(request: DialectRequest): string | undefined {
  const encoded = MODEL_PATH.exec(request.path)?.[1];
  if (!encoded) return undefined;
  try {
    return decodeURIComponent(encoded) || undefined;
  } catch {
    return undefined;
  }
}

/** gRPC status names Google's JSON errors carry, by HTTP status (google.rpc.Code mapping). */
const GRPC_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "NOT_IMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/**
 * Google's error envelope, with `code` as the reason of a `google.rpc.ErrorInfo` detail as Google
 * reports its own reasons (`API_KEY_INVALID`, …). pi's client (`@google/genai`) reports the whole body
 * as JSON, so `message` appears JSON-escaped there.
 */
function googleError(status: number, message: string, code: string): Response {
  const grpc = GRPC_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
  const details = [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: code, domain: "oqto" }];
  return Response.json({ error: { code: status, message, status: grpc, details } }, { status });
}

/**
 * Google Generative AI (Gemini API, `POST models/<model>:streamGenerateContent?alt=sse`). Usage comes
 * in `usageMetadata` unasked. pi's client sends its key in `x-goog-api-key`; `?key=` is the other way
 * Google accepts one.
 */
export const googleGenerativeAi: ApiDialect = {
  api: "google-generative-ai",
  authHeader: (key) => ["x-goog-api-key", key],
  presentedKey: (request, url) =>
    headerValue(request, "x-goog-api-key") ?? (url.searchParams.get("key") || undefined),
  model: pathModel,
  withUsageReported: (request) => request.body,
  error: googleError,
  meter: (contentType) => usageMeter(contentType, new GenerateContentReader()),
};
