import type { ProviderApi } from "../../../protocol/llm.ts";

/** Tokens one request used, as the provider itself reported them. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * Reads a provider response's bytes as they pass through, without holding any back, and knows the
 * usage the provider reported once the body has ended. Never throws on malformed bytes: a stream the
 * meter cannot read yields `undefined` (the gateway then records the request without tokens).
 */
export interface UsageMeter {
  push(chunk: Uint8Array): void;
  /** The usage reported by the whole body, or undefined when the provider reported none. */
  finish(): TokenUsage | undefined;
}

/** The parts of a request the gateway reads or changes before forwarding it. */
export interface DialectRequest {
  /** The path below the provider's base URL, e.g. `chat/completions` or `models/gemini-2.0:streamGenerateContent`. */
  path: string;
  /** The parsed JSON body (undefined for a bodiless request such as GET `models`). */
  body: unknown;
}

/**
 * What differs between the LLM wire formats pi speaks (pi's `api`): where the key goes, where the model
 * is named, how to ask for usage, how errors look and where usage is reported. One implementation per
 * `ProviderApi`, no network, no state.
 */
export interface ApiDialect {
  readonly api: ProviderApi;
  /** The header that carries the real key to the provider. */
  authHeader(key: string): [name: string, value: string];
  /** The credential a client presented (pi puts its api key here), if any. */
  presentedKey(request: Request, url: URL): string | undefined;
  /** The model a request names (in the body, or the path for Google), if any. */
  model(request: DialectRequest): string | undefined;
  /** The body to forward: the same request, asking the provider to report usage where it must be asked. */
  withUsageReported(request: DialectRequest): unknown;
  /** An error in this API's own error shape, so that pi reports `message` as the provider's error. */
  error(status: number, message: string, code: string): Response;
  /** A meter for one response body with this content type (SSE stream or a JSON body). */
  meter(contentType: string | null): UsageMeter;
}
