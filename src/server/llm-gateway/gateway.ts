import type { ModelPrice } from "../../protocol/llm.ts";
import { RELAY_DROPPED_REQUEST_HEADERS, RELAY_DROPPED_RESPONSE_HEADERS } from "../../shared/relay-headers.ts";
import { upstreamUrl } from "../../shared/upstream-url.ts";
import type { SessionOwnership } from "../mux/agent-channel.ts";
import type { Store } from "../store/index.ts";
import { DeltaMerger } from "./delta-merge/delta-merger.ts";
import { deltaRuleFor } from "./delta-merge/index.ts";
import type { DeltaMergeLoad } from "./delta-merge/merge-load.ts";
import { mergedDeltaBody } from "./delta-merge/merged-body.ts";
import type { ApiDialect, TokenUsage } from "./dialects/dialect.ts";
import { dialectFor } from "./dialects/index.ts";
import type { LimitGuard } from "./limit-guard.ts";
import type { GatewayProvider, LlmBackend, Upstream } from "./llm-backend.ts";
import { meteredBody } from "./metered-body.ts";
import { costUsd, totalTokens } from "./pricing.ts";
import type { SessionTokens } from "./session-tokens.ts";

/** Where the gateway listens on serve's own HTTP server: `/llm/<provider>/<path below its base URL>`. */
export const GATEWAY_PREFIX = "/llm/";
/** The largest request pi may send through the gateway (long conversations with images). */
export const MAX_GATEWAY_BODY_BYTES = 32 * 1024 * 1024;

/** Headers pi's clients carry credentials in: never forwarded, the gateway sets the real one itself. */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "x-goog-api-key", "api-key"];
/** What a relay re-frames, and what Oqto's own server set: cookies and client addresses never go to a provider. */
const DROPPED_REQUEST_HEADERS = new Set([
  ...RELAY_DROPPED_REQUEST_HEADERS,
  "cookie",
  "origin",
  "referer",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  ...CREDENTIAL_HEADERS,
]);
const DROPPED_RESPONSE_HEADERS = [...RELAY_DROPPED_RESPONSE_HEADERS, "set-cookie"];

export interface LlmGatewayDeps {
  store: Store;
  backend: LlmBackend;
  tokens: SessionTokens;
  ownership: SessionOwnership;
  guard: LimitGuard;
  /** Streams counted for merging their deltas under load. */
  merge: DeltaMergeLoad;
  log: (message: string) => void;
}

interface Admitted {
  provider: GatewayProvider;
  upstream: Upstream;
  dialect: ApiDialect;
  userId: string;
  sessionId: string;
  model: string;
  price: ModelPrice | undefined;
  target: URL;
  body: BodyInit | undefined;
}

/** A request refused by the gateway: already in the provider's own error shape. */
class Refused extends Error {
  constructor(readonly response: Response) {
    super("refused");
  }
}

async function readCappedBody(
  request: Request,
  refuse: (status: number, message: string, code: string) => Refused,
) {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = () =>
    refuse(
      413,
      `the request body exceeds the gateway's limit of ${MAX_GATEWAY_BODY_BYTES} bytes`,
      "body_too_large",
    );
  if (declared > MAX_GATEWAY_BODY_BYTES) throw tooLarge();
  if (request.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > MAX_GATEWAY_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof Refused) throw error;
    throw refuse(400, "the request body was cut off before its end", "invalid_request");
  }
  return Buffer.concat(chunks);
}

/**
 * The LLM key-custody gateway: pi's only way to a provider. It admits a request only with a live session
 * token (its process's, registered by the runner), checks the model, budget and rate limit, puts the real
 * key into the provider's own auth header, streams the answer back chunk by chunk as it arrives, and
 * records the usage the provider reported. Keys live in this process's memory and nowhere a runner,
 * agent or terminal can read.
 */
export class LlmGateway {
  private readonly responses = new Map<number, number>();

  constructor(private readonly deps: LlmGatewayDeps) {}

  /** The gateway's answers by HTTP status since start, refusals included (the metrics). */
  get responsesByStatus(): ReadonlyMap<number, number> {
    return this.responses;
  }

  /** Provider records not sent to pi because their deltas were merged into another (the metrics). */
  get deltaRecordsSaved(): number {
    return this.deps.merge.recordsSaved;
  }

  async handle(request: Request): Promise<Response> {
    const response = await this.answer(request);
    this.responses.set(response.status, (this.responses.get(response.status) ?? 0) + 1);
    return response;
  }

  private async answer(request: Request): Promise<Response> {
    let admitted: Admitted;
    try {
      admitted = await this.admit(request);
    } catch (error) {
      if (error instanceof Refused) return error.response;
      throw error;
    }
    return this.forward(request, admitted);
  }

  private async admit(request: Request): Promise<Admitted> {
    const url = new URL(request.url);
    const [providerName = "", ...rest] = url.pathname.slice(GATEWAY_PREFIX.length).split("/");
    const provider = this.deps.backend.provider(providerName);
    const dialect = dialectFor(provider?.api ?? "openai-completions");
    const refuse = (status: number, message: string, code: string) =>
      new Refused(dialect.error(status, message, code));
    if (!provider)
      throw refuse(404, `Oqto: no LLM provider named '${providerName}' is configured`, "not_found");

    const presented = dialect.presentedKey(request, url);
    if (presented === undefined) {
      throw refuse(
        401,
        "Oqto: this request carries no session token (pi sends it as the API key)",
        "unauthorized",
      );
    }
    const grant = this.deps.tokens.lookup(presented);
    if (!grant)
      throw refuse(
        401,
        "Oqto: this session token is not valid (unknown, or its session has ended)",
        "unauthorized",
      );
    const userId = this.deps.ownership.owner(grant.sessionId);
    // A runner registers tokens for its own user's sessions only.
    if (userId === undefined || (grant.runnerUser !== undefined && grant.runnerUser !== userId)) {
      throw refuse(401, "Oqto: this session token does not belong to its session's owner", "unauthorized");
    }
    const user = this.deps.store.users.byId(userId);
    if (!user?.is_active) throw refuse(403, "Oqto: this account is deactivated", "account_disabled");

    const path = rest.join("/");
    const bytes = await readCappedBody(request, refuse);
    let body: unknown;
    if (bytes.byteLength > 0) {
      try {
        body = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        throw refuse(400, "Oqto: the request body is not valid JSON", "invalid_request");
      }
    }
    const modelId = dialect.model({ path, body });
    const model = provider.models.find((candidate) => candidate.id === modelId);
    if (modelId !== undefined && !model) {
      throw refuse(
        404,
        `Oqto: the model '${modelId}' is not offered by provider '${provider.name}'`,
        "model_not_found",
      );
    }
    const upstream = await this.deps.backend.upstream(provider, userId);
    if ("reason" in upstream) throw refuse(503, `Oqto: ${upstream.reason}`, "unavailable");
    const refusal = this.deps.guard.admit(
      user,
      modelId === undefined ? undefined : `${provider.name}/${modelId}`,
    );
    if (refusal) {
      const response = dialect.error(refusal.status, refusal.message, refusal.code);
      if (refusal.retryAfterS !== undefined) response.headers.set("retry-after", String(refusal.retryAfterS));
      throw new Refused(response);
    }

    if (url.searchParams.has("key")) url.searchParams.delete("key");
    const target = upstreamUrl(upstream.baseUrl, path, url.search);
    if (!target) throw refuse(400, "Oqto: the path leaves the provider's base URL", "invalid_request");
    let forwardBody: BodyInit | undefined;
    if (body !== undefined) {
      const reported = dialect.withUsageReported({ path, body });
      forwardBody = reported === body ? bytes : JSON.stringify(reported);
    }
    return {
      provider,
      upstream,
      price: model?.price,
      dialect,
      userId,
      sessionId: grant.sessionId,
      model: modelId ?? "",
      target,
      body: forwardBody,
    };
  }

  private async forward(request: Request, admitted: Admitted): Promise<Response> {
    const {
      provider,
      upstream: { apiKey },
      dialect,
      target,
    } = admitted;
    const headers = new Headers();
    request.headers.forEach((value, name) => {
      if (!DROPPED_REQUEST_HEADERS.has(name)) headers.set(name, value);
    });
    if (apiKey !== undefined) headers.set(...dialect.authHeader(apiKey));
    for (const [name, value] of Object.entries(admitted.upstream.headers ?? {})) headers.set(name, value);
    let upstream: Response;
    try {
      upstream = await fetch(target, {
        method: request.method,
        headers,
        ...(admitted.body === undefined ? {} : { body: admitted.body }),
        redirect: "manual",
        // pi aborting (or its connection dropping) cancels the provider's request too.
        signal: request.signal,
      });
    } catch (error) {
      this.record(admitted, undefined);
      return dialect.error(
        502,
        `Oqto: the provider '${provider.name}' at ${target.origin} is unreachable: ${(error as Error).message}`,
        "bad_gateway",
      );
    }
    const responseHeaders = new Headers(upstream.headers);
    for (const name of DROPPED_RESPONSE_HEADERS) responseHeaders.delete(name);
    if (upstream.body === null) {
      this.record(admitted, undefined);
      return new Response(null, {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: responseHeaders,
      });
    }
    const contentType = upstream.headers.get("content-type");
    const meter = dialect.meter(contentType);
    const rule = contentType?.toLowerCase().includes("text/event-stream")
      ? deltaRuleFor(dialect.api)
      : undefined;
    const merge = this.deps.merge;
    const streamEnded = rule && merge.settings.windowMs > 0 ? merge.begin() : undefined;
    let body = meteredBody(upstream.body, meter, () => {
      streamEnded?.();
      this.record(admitted, meter.finish());
    });
    // The meter reads the provider's own bytes; pi gets them with deltas merged while the gateway is busy.
    if (rule && streamEnded) {
      const merger = new DeltaMerger(rule, (saved) => merge.countSaved(saved));
      body = mergedDeltaBody(body, merger, () => merge.windowMs());
    }
    return new Response(body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders,
    });
  }

  /** Every admitted request counts; tokens and cost are the provider's own figures when it reported any. */
  private record(admitted: Admitted, usage: TokenUsage | undefined): void {
    const spent = usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const now = Date.now();
    try {
      this.deps.store.llmUsage.record({
        userId: admitted.userId,
        sessionId: admitted.sessionId,
        provider: admitted.provider.name,
        model: admitted.model,
        inputTokens: spent.input,
        outputTokens: spent.output,
        cacheReadTokens: spent.cacheRead,
        cacheWriteTokens: spent.cacheWrite,
        costUsd: costUsd(spent, admitted.price),
        at: now,
      });
    } catch (error) {
      this.deps.log(`LLM gateway: could not record usage: ${(error as Error).message}`);
    }
    this.deps.guard.spent(admitted.userId, totalTokens(spent), now);
  }
}
