/**
 * The API dialects on their own: usage metering over the scripted fakes' real bytes in awkward
 * chunkings, model extraction, usage requests, error shapes, keys, and bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ProviderApi } from "../../../src/protocol/llm.ts";
import { anthropicMessages } from "../../../src/server/llm-gateway/dialects/anthropic-messages.ts";
import type { ApiDialect, TokenUsage, UsageMeter } from "../../../src/server/llm-gateway/dialects/dialect.ts";
import { googleGenerativeAi } from "../../../src/server/llm-gateway/dialects/google-generative-ai.ts";
import { dialectFor } from "../../../src/server/llm-gateway/dialects/index.ts";
import { MAX_METERED_LINE } from "../../../src/server/llm-gateway/dialects/meter.ts";
import { openAiCompletions } from "../../../src/server/llm-gateway/dialects/openai-completions.ts";
import { openAiResponses } from "../../../src/server/llm-gateway/dialects/openai-responses.ts";
import { type AnyFake, API_CASES, type ApiCase } from "./dialect-cases.ts";

const TEXT = ["Hé", "llo ", "wörld 😀", "!"];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function split(bytes: Uint8Array, sizes: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = Math.max(1, sizes());
    chunks.push(bytes.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

/** Whole, one byte at a time, two and three at a time, and random splits (including empty chunks). */
function chunkings(bytes: Uint8Array): Array<{ name: string; chunks: Uint8Array[] }> {
  const out = [
    { name: "whole", chunks: [bytes] },
    { name: "1 byte", chunks: split(bytes, () => 1) },
    { name: "2 bytes", chunks: split(bytes, () => 2) },
    { name: "3 bytes", chunks: split(bytes, () => 3) },
  ];
  for (let seed = 1; seed <= 12; seed++) {
    const next = random(seed);
    const chunks = split(bytes, () => 1 + Math.floor(next() * 40));
    // Empty chunks in between must be harmless.
    out.push({
      name: `random ${seed}`,
      chunks: chunks.flatMap((c, i) => (i % 5 === 0 ? [new Uint8Array(0), c] : [c])),
    });
  }
  return out;
}

/** The same SSE body with LF, CRLF and CR line ends. */
function lineEndVariants(bytes: Uint8Array): Array<{ name: string; bytes: Uint8Array }> {
  const lf = decoder.decode(bytes).replace(/\r\n|\r/g, "\n");
  return [
    { name: "LF", bytes: encoder.encode(lf) },
    { name: "CRLF", bytes: encoder.encode(lf.replace(/\n/g, "\r\n")) },
    { name: "CR", bytes: encoder.encode(lf.replace(/\n/g, "\r")) },
  ];
}

function meterOver(
  dialect: ApiDialect,
  contentType: string | null,
  chunks: Uint8Array[],
): TokenUsage | undefined {
  const meter = dialect.meter(contentType);
  for (const chunk of chunks) meter.push(chunk);
  return meter.finish();
}

interface Answer {
  contentType: string | null;
  bytes: Uint8Array;
}

async function generate(
  fake: AnyFake,
  c: ApiCase,
  step: Record<string, unknown>,
  stream: boolean,
  search?: string,
): Promise<Answer> {
  fake.script([step]);
  const request = c.request(stream);
  const [name, value] = c.dialect.authHeader(c.key);
  const response = await fetch(`${fake.url}/${request.path}${search ?? request.search}`, {
    method: "POST",
    headers: { "content-type": "application/json", [name]: value },
    body: JSON.stringify(request.body),
  });
  expect(response.status).toBe(200);
  const bytes = new Uint8Array(await response.arrayBuffer());
  // What the client read is what the fake logged as sent.
  expect(fake.exchanges().at(-1)?.response).toEqual(bytes);
  return { contentType: response.headers.get("content-type"), bytes };
}

function expectValidOrUndefined(usage: TokenUsage | undefined): void {
  if (usage === undefined) return;
  for (const figure of [usage.input, usage.output, usage.cacheRead, usage.cacheWrite]) {
    expect(Number.isInteger(figure) && figure >= 0).toBe(true);
  }
}

/** What each API's meter reports for a stream cut just before its last usage record. */
function usageBeforeLastRecord(api: ProviderApi, scripted: Record<string, number>): TokenUsage | undefined {
  switch (api) {
    case "openai-completions":
    case "openai-responses":
      return undefined;
    case "anthropic-messages":
      // message_start's figures (its output_tokens is 1) stand until message_delta.
      return {
        input: scripted.input_tokens ?? 0,
        output: 1,
        cacheRead: scripted.cache_read_input_tokens ?? 0,
        cacheWrite: scripted.cache_creation_input_tokens ?? 0,
      };
    case "google-generative-ai":
      // The earlier chunks' usageMetadata has the prompt count only.
      return { input: scripted.promptTokenCount ?? 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  }
}

/**
 * Byte offsets in the SSE record holding the last occurrence of `needle`: where the record starts, and
 * a point inside its usage JSON.
 */
function lastRecord(bytes: Uint8Array, needle: string): { start: number; inside: number } {
  const text = decoder.decode(bytes);
  const at = text.lastIndexOf(needle);
  expect(at).toBeGreaterThan(0);
  const lf = text.lastIndexOf("\n\n", at);
  const crlf = text.lastIndexOf("\r\n\r\n", at);
  const start = Math.max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 4);
  const offset = (end: number) => encoder.encode(text.slice(0, end)).length;
  return { start: offset(start), inside: offset(at + needle.length + 3) };
}

const USAGE_NEEDLE: Record<ProviderApi, string> = {
  "openai-completions": '"usage":{',
  "openai-responses": '"usage":{',
  "anthropic-messages": '"usage":{',
  "google-generative-ai": '"usageMetadata":{',
};

for (const c of API_CASES) {
  describe(`${c.dialect.api} meter over the fake's bytes`, () => {
    let fake: AnyFake;
    beforeAll(async () => {
      fake = await c.start();
    });
    afterAll(async () => {
      await fake.stop();
    });

    for (const u of c.usages) {
      test(`${u.name}: every chunking and line end of the stream gives the scripted usage`, async () => {
        const answer = await generate(fake, c, { text: TEXT, usage: u.scripted }, true);
        expect(answer.contentType).toContain("text/event-stream");
        for (const variant of lineEndVariants(answer.bytes)) {
          for (const chunking of chunkings(variant.bytes)) {
            const usage = meterOver(c.dialect, answer.contentType, chunking.chunks);
            expect({ variant: variant.name, chunking: chunking.name, usage }).toEqual({
              variant: variant.name,
              chunking: chunking.name,
              usage: u.expected,
            });
          }
        }
      });

      test(`${u.name}: a JSON (non-streamed) body gives the scripted usage`, async () => {
        const answer = await generate(fake, c, { text: TEXT, usage: u.scripted }, false);
        expect(answer.contentType).toContain("application/json");
        for (const chunking of chunkings(answer.bytes)) {
          expect(meterOver(c.dialect, answer.contentType, chunking.chunks)).toEqual(u.expected);
        }
      });
    }

    test("without a content type the meter tells SSE from JSON by the first byte", async () => {
      const u = c.usages[0];
      if (!u) throw new Error("no usage case");
      const sse = await generate(fake, c, { text: TEXT, usage: u.scripted }, true);
      const json = await generate(fake, c, { text: TEXT, usage: u.scripted }, false);
      expect(
        meterOver(
          c.dialect,
          null,
          split(sse.bytes, () => 7),
        ),
      ).toEqual(u.expected);
      expect(meterOver(c.dialect, null, [encoder.encode(" \n"), json.bytes])).toEqual(u.expected);
    });

    test("a truncated stream never throws; cut before the last usage record it reports what came before", async () => {
      const u = c.usages[0];
      if (!u) throw new Error("no usage case");
      const answer = await generate(fake, c, { text: TEXT, usage: u.scripted }, true);
      for (let cut = 0; cut <= answer.bytes.length; cut++) {
        const usage = meterOver(c.dialect, answer.contentType, [answer.bytes.subarray(0, cut)]);
        expectValidOrUndefined(usage);
      }
      expect(meterOver(c.dialect, answer.contentType, [])).toBeUndefined();
      const { start, inside } = lastRecord(answer.bytes, USAGE_NEEDLE[c.dialect.api]);
      const before = usageBeforeLastRecord(c.dialect.api, u.scripted as Record<string, number>);
      // Cut right before the record, and inside it (its JSON is then incomplete).
      for (const cut of [start, inside]) {
        const usage = meterOver(
          c.dialect,
          answer.contentType,
          split(answer.bytes.subarray(0, cut), () => 5),
        );
        expect(usage).toEqual(before);
      }
    });
  });
}

describe("meters on bad input", () => {
  const dialects = [openAiCompletions, openAiResponses, anthropicMessages, googleGenerativeAi];
  const contentTypes = ["text/event-stream", "application/json", null, "text/plain"];

  function feed(meter: UsageMeter, chunks: Array<Uint8Array | string>): TokenUsage | undefined {
    for (const chunk of chunks) meter.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    return meter.finish();
  }

  test("garbage bytes give undefined and never throw", () => {
    const next = random(42);
    const garbage = Uint8Array.from({ length: 64 * 1024 }, () => Math.floor(next() * 256));
    const inputs: Array<Array<Uint8Array | string>> = [
      [garbage],
      split(garbage, () => 1 + Math.floor(next() * 100)),
      ["data: not json\n\n", 'data: {"usage": \n\n'],
      ['{"usage": "lots", "usageMetadata": 7}'],
      ['data: {"usage":{"prompt_tokens":-5,"completion_tokens":1.5}}\n\n'],
      ['data: {"usage":{"prompt_tokens":"12"}}\n\n'],
      ['data: {"type":"message_start","message":{"usage":{"input_tokens":"x"}}}\n\n'],
      ['data: {"type":"response.completed","response":{"usage":{"input_tokens":-1}}}\n\n'],
      ['data: {"usageMetadata":{"promptTokenCount":null,"candidatesTokenCount":{}}}\n\n'],
      ['[1, 2, {"usageMetadata": []}]'],
      ["\u0000\u0001\r\r\n\n\r::::\n"],
      ["{", '"usage":{"prompt_tokens":1'],
      [],
    ];
    for (const dialect of dialects) {
      for (const contentType of contentTypes) {
        for (const input of inputs) {
          expect(feed(dialect.meter(contentType), input)).toBeUndefined();
        }
      }
    }
  });

  test("after finish, pushes are ignored and finish answers the same", () => {
    const meter = openAiCompletions.meter("text/event-stream");
    meter.push(encoder.encode('data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}\n\n'));
    const usage = { input: 5, output: 2, cacheRead: 0, cacheWrite: 0 };
    expect(meter.finish()).toEqual(usage);
    meter.push(encoder.encode('data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":9}}\n\n'));
    expect(meter.finish()).toEqual(usage);
  });

  test("invalid UTF-8 and an over-long line are skipped; usage after them is still read", () => {
    const huge = new Uint8Array(MAX_METERED_LINE + 1024).fill(0x61);
    const meter = openAiCompletions.meter("text/event-stream");
    meter.push(encoder.encode("data: "));
    for (let i = 0; i < huge.length; i += 1 << 20) meter.push(huge.subarray(i, i + (1 << 20)));
    meter.push(encoder.encode('"usage"\n\n'));
    meter.push(Uint8Array.of(0x64, 0x61, 0xff, 0xfe, 0xc3, 0x0a, 0x0a));
    meter.push(encoder.encode('data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}\n\n'));
    expect(meter.finish()).toEqual({ input: 5, output: 2, cacheRead: 0, cacheWrite: 0 });
  });

  test("the last usage wins; a stream without a final blank line still counts its last event", () => {
    const meter = openAiCompletions.meter("text/event-stream");
    meter.push(encoder.encode('data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n'));
    meter.push(
      encoder.encode(': keep-alive\n\nevent: x\ndata: {"choices":[],\ndata: "usage":{"prompt_tokens":7,'),
    );
    meter.push(encoder.encode('"completion_tokens":3}}'));
    expect(meter.finish()).toEqual({ input: 7, output: 3, cacheRead: 0, cacheWrite: 0 });
  });

  test("OpenAI Chat Completions: usage in the first choice (Moonshot) and DeepSeek's cache hits", () => {
    const moonshot = openAiCompletions.meter("text/event-stream");
    moonshot.push(
      encoder.encode(
        'data: {"choices":[{"index":0,"delta":{},"usage":{"prompt_tokens":9,"completion_tokens":4}}]}\n\n',
      ),
    );
    expect(moonshot.finish()).toEqual({ input: 9, output: 4, cacheRead: 0, cacheWrite: 0 });
    const deepseek = openAiCompletions.meter("text/event-stream");
    deepseek.push(
      encoder.encode(
        'data: {"choices":[],"usage":{"prompt_tokens":90,"completion_tokens":4,"prompt_cache_hit_tokens":60}}\n\n',
      ),
    );
    expect(deepseek.finish()).toEqual({ input: 30, output: 4, cacheRead: 60, cacheWrite: 0 });
    // OpenAI sends `"usage": null` on every chunk but the last when asked for usage.
    const nulls = openAiCompletions.meter("text/event-stream");
    nulls.push(encoder.encode('data: {"choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}\n\n'));
    expect(nulls.finish()).toBeUndefined();
  });

  test("OpenAI Responses: an incomplete or failed response's usage is counted too, other events are not", () => {
    const usage = '{"input_tokens":10,"output_tokens":4,"input_tokens_details":{"cached_tokens":3}}';
    for (const type of ["response.incomplete", "response.failed", "response.completed"]) {
      const meter = openAiResponses.meter("text/event-stream");
      meter.push(
        encoder.encode(`event: ${type}\ndata: {"type":"${type}","response":{"usage":${usage}}}\n\n`),
      );
      expect(meter.finish()).toEqual({ input: 7, output: 4, cacheRead: 3, cacheWrite: 0 });
    }
    const created = openAiResponses.meter("text/event-stream");
    created.push(encoder.encode(`data: {"type":"response.created","response":{"usage":${usage}}}\n\n`));
    expect(created.finish()).toBeUndefined();
  });

  test("Anthropic: message_delta overrides the figures it carries, keeps the others", () => {
    const meter = anthropicMessages.meter("text/event-stream");
    meter.push(
      encoder.encode(
        'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":2,"output_tokens":1}}}\n\n' +
          'event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":8}}\n\n' +
          'event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"input_tokens":11,"cache_read_input_tokens":null,"output_tokens":9}}\n\n',
      ),
    );
    expect(meter.finish()).toEqual({ input: 11, output: 9, cacheRead: 5, cacheWrite: 2 });
  });

  test("Google: a JSON array (streamGenerateContent without alt=sse): the last usageMetadata wins", () => {
    const meter = googleGenerativeAi.meter("application/json; charset=UTF-8");
    meter.push(
      encoder.encode(
        '[{"usageMetadata":{"promptTokenCount":5}},{"candidates":[]},{"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"thoughtsTokenCount":2,"cachedContentTokenCount":1}}]',
      ),
    );
    expect(meter.finish()).toEqual({ input: 4, output: 5, cacheRead: 1, cacheWrite: 0 });
  });
});

describe("Google's JSON array from the fake", () => {
  const c = API_CASES.find((x) => x.dialect.api === "google-generative-ai");
  let fake: AnyFake;
  beforeAll(async () => {
    if (c) fake = await c.start();
  });
  afterAll(async () => {
    await fake?.stop();
  });

  test("streamGenerateContent without alt=sse", async () => {
    if (!c) throw new Error("no google case");
    for (const u of c.usages) {
      const answer = await generate(fake, c, { text: TEXT, usage: u.scripted }, true, "");
      expect(answer.contentType).toContain("application/json");
      expect(Array.isArray(JSON.parse(decoder.decode(answer.bytes)))).toBe(true);
      for (const chunking of chunkings(answer.bytes)) {
        expect(meterOver(c.dialect, answer.contentType, chunking.chunks)).toEqual(u.expected);
      }
    }
  });
});

describe("dialectFor", () => {
  test("gives each API its dialect", () => {
    const apis: ProviderApi[] = [
      "openai-completions",
      "openai-responses",
      "anthropic-messages",
      "google-generative-ai",
    ];
    for (const api of apis) expect(dialectFor(api).api).toBe(api);
    expect(dialectFor("openai-completions")).toBe(openAiCompletions);
    expect(dialectFor("google-generative-ai")).toBe(googleGenerativeAi);
  });
});

describe("model", () => {
  test("OpenAI and Anthropic read body.model", () => {
    for (const dialect of [openAiCompletions, openAiResponses, anthropicMessages]) {
      expect(dialect.model({ path: "x", body: { model: "gpt-4o", messages: [] } })).toBe("gpt-4o");
      expect(dialect.model({ path: "x", body: { messages: [] } })).toBeUndefined();
      expect(dialect.model({ path: "x", body: { model: 7 } })).toBeUndefined();
      expect(dialect.model({ path: "x", body: { model: "" } })).toBeUndefined();
      expect(dialect.model({ path: "models", body: undefined })).toBeUndefined();
      expect(dialect.model({ path: "x", body: "model" })).toBeUndefined();
      expect(dialect.model({ path: "x", body: [{ model: "a" }] })).toBeUndefined();
    }
  });

  test("Google reads the model from the path", () => {
    const model = (path: string) => googleGenerativeAi.model({ path, body: { model: "not-this" } });
    expect(model("models/gemini-2.5-flash:streamGenerateContent")).toBe("gemini-2.5-flash");
    expect(model("models/gemini-2.5-flash:generateContent")).toBe("gemini-2.5-flash");
    expect(model("v1beta/models/gemini-2.5-pro:streamGenerateContent")).toBe("gemini-2.5-pro");
    expect(model("models/gemini%2D2.5:generateContent")).toBe("gemini-2.5");
    expect(model("models/gemini-2.5-flash:countTokens")).toBeUndefined();
    expect(model("models/gemini-2.5-flash")).toBeUndefined();
    expect(model("models")).toBeUndefined();
    expect(model("models/:generateContent")).toBeUndefined();
    expect(model("models/%E0%A4%A:generateContent")).toBeUndefined();
    expect(model("xmodels/gemini:generateContent")).toBeUndefined();
    expect(model("models/a/b:generateContent")).toBeUndefined();
  });
});

describe("withUsageReported", () => {
  const request = (body: unknown) => ({ path: "chat/completions", body });

  test("OpenAI Chat Completions: a stream asks for usage, merged into its stream_options", () => {
    const plain = { model: "m", stream: true, messages: [] };
    expect(openAiCompletions.withUsageReported(request(plain))).toEqual({
      ...plain,
      stream_options: { include_usage: true },
    });
    expect(plain).toEqual({ model: "m", stream: true, messages: [] });
    const off = {
      model: "m",
      stream: true,
      stream_options: { include_usage: false, include_obfuscation: false },
    };
    expect(openAiCompletions.withUsageReported(request(off))).toEqual({
      model: "m",
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
    });
    expect(off.stream_options.include_usage).toBe(false);
    const nulled = { model: "m", stream: true, stream_options: null };
    expect(openAiCompletions.withUsageReported(request(nulled))).toEqual({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test("OpenAI Chat Completions: anything but a stream is forwarded as it is", () => {
    for (const body of [
      { model: "m", stream: false },
      { model: "m" },
      undefined,
      "text",
      [1],
      { stream: "true" },
    ]) {
      expect(openAiCompletions.withUsageReported(request(body))).toBe(body);
    }
  });

  test("the other APIs report usage unasked: the body is unchanged", () => {
    const body = { model: "m", stream: true };
    for (const dialect of [openAiResponses, anthropicMessages, googleGenerativeAi]) {
      expect(dialect.withUsageReported(request(body))).toBe(body);
      expect(dialect.withUsageReported(request(undefined))).toBeUndefined();
    }
  });
});

describe("error", () => {
  const message = "Oqto: this account's monthly token limit is used up (resets 2026-01-01).";

  test("OpenAI (both APIs): {error:{message,type,param,code}}", async () => {
    for (const dialect of [openAiCompletions, openAiResponses]) {
      const quota = dialect.error(429, message, "quota_exceeded");
      expect(quota.status).toBe(429);
      expect(quota.headers.get("content-type")).toContain("application/json");
      expect(await quota.json()).toEqual({
        error: { message, type: "invalid_request_error", param: null, code: "quota_exceeded" },
      });
      expect(await dialect.error(502, "upstream down", "upstream_error").json()).toEqual({
        error: { message: "upstream down", type: "server_error", param: null, code: "upstream_error" },
      });
    }
  });

  test("Anthropic: {type:'error', error:{type,message}} with Anthropic's own error types", async () => {
    const body = async (status: number, code: string) =>
      (await anthropicMessages.error(status, message, code).json()) as unknown;
    const response = anthropicMessages.error(429, message, "quota_exceeded");
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({ type: "error", error: { type: "rate_limit_error", message } });
    expect(await body(401, "unauthorized")).toEqual({
      type: "error",
      error: { type: "authentication_error", message },
    });
    expect(await body(403, "forbidden")).toEqual({
      type: "error",
      error: { type: "permission_error", message },
    });
    expect(await body(404, "unknown_model")).toEqual({
      type: "error",
      error: { type: "not_found_error", message },
    });
    expect(await body(529, "overloaded_error")).toEqual({
      type: "error",
      error: { type: "overloaded_error", message },
    });
    expect(await body(503, "overloaded_error")).toEqual({
      type: "error",
      error: { type: "overloaded_error", message },
    });
    expect(await body(502, "upstream_error")).toEqual({
      type: "error",
      error: { type: "api_error", message },
    });
    expect(await body(418, "teapot")).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message },
    });
  });

  test("Google: {error:{code,message,status,details:[ErrorInfo]}}", async () => {
    const response = googleGenerativeAi.error(429, message, "quota_exceeded");
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({
      error: {
        code: 429,
        message,
        status: "RESOURCE_EXHAUSTED",
        details: [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "quota_exceeded", domain: "oqto" },
        ],
      },
    });
    const statuses = [
      [400, "INVALID_ARGUMENT"],
      [401, "UNAUTHENTICATED"],
      [403, "PERMISSION_DENIED"],
      [404, "NOT_FOUND"],
      [500, "INTERNAL"],
      [502, "INTERNAL"],
      [503, "UNAVAILABLE"],
      [422, "FAILED_PRECONDITION"],
    ] as const;
    for (const [status, grpc] of statuses) {
      const json = (await googleGenerativeAi.error(status, message, "x").json()) as {
        error: { status: string };
      };
      expect({ status, grpc: json.error.status }).toEqual({ status, grpc });
    }
  });
});

describe("keys", () => {
  const req = (headers: Record<string, string>, url = "http://gw/p/models") => {
    const request = new Request(url, { headers });
    return [request, new URL(request.url)] as const;
  };

  test("authHeader puts the real key where each provider expects it", () => {
    expect(openAiCompletions.authHeader("k")).toEqual(["authorization", "Bearer k"]);
    expect(openAiResponses.authHeader("k")).toEqual(["authorization", "Bearer k"]);
    expect(anthropicMessages.authHeader("k")).toEqual(["x-api-key", "k"]);
    expect(googleGenerativeAi.authHeader("k")).toEqual(["x-goog-api-key", "k"]);
  });

  test("OpenAI: the Bearer token", () => {
    for (const dialect of [openAiCompletions, openAiResponses]) {
      expect(dialect.presentedKey(...req({ authorization: "Bearer tok-1" }))).toBe("tok-1");
      expect(dialect.presentedKey(...req({ authorization: "bearer  tok-1 " }))).toBe("tok-1");
      expect(dialect.presentedKey(...req({ authorization: "Basic dXNlcg==" }))).toBeUndefined();
      expect(dialect.presentedKey(...req({ authorization: "Bearer " }))).toBeUndefined();
      expect(dialect.presentedKey(...req({ "x-api-key": "tok-1" }))).toBeUndefined();
      expect(dialect.presentedKey(...req({}))).toBeUndefined();
    }
  });

  test("Anthropic: x-api-key, else a Bearer token (pi's OAuth tokens)", () => {
    expect(anthropicMessages.presentedKey(...req({ "x-api-key": "tok-2" }))).toBe("tok-2");
    expect(anthropicMessages.presentedKey(...req({ authorization: "Bearer sk-ant-oat-1" }))).toBe(
      "sk-ant-oat-1",
    );
    expect(anthropicMessages.presentedKey(...req({ "x-api-key": "tok-2", authorization: "Bearer b" }))).toBe(
      "tok-2",
    );
    expect(anthropicMessages.presentedKey(...req({ "x-api-key": "" }))).toBeUndefined();
    expect(anthropicMessages.presentedKey(...req({}))).toBeUndefined();
  });

  test("Google: x-goog-api-key, else ?key=", () => {
    expect(googleGenerativeAi.presentedKey(...req({ "x-goog-api-key": "tok-3" }))).toBe("tok-3");
    expect(
      googleGenerativeAi.presentedKey(...req({}, "http://gw/p/models/m:generateContent?key=tok-4")),
    ).toBe("tok-4");
    expect(googleGenerativeAi.presentedKey(...req({ "x-goog-api-key": "h" }, "http://gw/m?key=q"))).toBe("h");
    expect(googleGenerativeAi.presentedKey(...req({}, "http://gw/m?key="))).toBeUndefined();
    expect(googleGenerativeAi.presentedKey(...req({ authorization: "Bearer x" }))).toBeUndefined();
  });
});
