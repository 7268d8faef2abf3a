/**
 * One case per API pi speaks: its dialect, the scripted fake that speaks it, how pi's models.json
 * points at that fake, a request like pi's, and scripted usage figures with the TokenUsage they mean.
 */
import { anthropicMessages } from "../../../src/server/llm-gateway/dialects/anthropic-messages.ts";
import type { ApiDialect, TokenUsage } from "../../../src/server/llm-gateway/dialects/dialect.ts";
import { googleGenerativeAi } from "../../../src/server/llm-gateway/dialects/google-generative-ai.ts";
import { openAiCompletions } from "../../../src/server/llm-gateway/dialects/openai-completions.ts";
import { openAiResponses } from "../../../src/server/llm-gateway/dialects/openai-responses.ts";
import {
  FAKE_ANTHROPIC_KEY,
  FAKE_ANTHROPIC_MODEL,
  FAKE_ANTHROPIC_PROVIDER,
  fakeAnthropicModelsJson,
  startFakeAnthropic,
} from "../../fixtures/fake-anthropic.ts";
import {
  FAKE_GOOGLE_KEY,
  FAKE_GOOGLE_MODEL,
  FAKE_GOOGLE_PROVIDER,
  fakeGoogleModelsJson,
  startFakeGoogle,
} from "../../fixtures/fake-google.ts";
import { FAKE_MODEL, FAKE_PROVIDER, fakeProviderModelsJson, startFakeLlm } from "../../fixtures/fake-llm.ts";
import {
  FAKE_RESPONSES_KEY,
  FAKE_RESPONSES_MODEL,
  FAKE_RESPONSES_PROVIDER,
  fakeResponsesModelsJson,
  startFakeOpenAiResponses,
} from "../../fixtures/fake-openai-responses.ts";
import type { LoggedExchange } from "../../fixtures/fake-provider-server.ts";

/** What the tests need of a fake, whichever it is. */
export interface AnyFake {
  url: string;
  /** Steps in the fake's own schema (checked by the fake). */
  script(steps: unknown[]): void;
  exchanges(): LoggedExchange[];
  stop(): Promise<void>;
}

export interface UsageCase {
  name: string;
  /** The step's `usage`, in the provider's own shape. */
  scripted: unknown;
  /** What pi (and so the meter) makes of it. */
  expected: TokenUsage;
}

export interface ApiCase {
  dialect: ApiDialect;
  provider: string;
  model: string;
  /** The key pi's models.json gives it. */
  key: string;
  start(): Promise<AnyFake>;
  modelsJson(baseUrl: string): Record<string, unknown>;
  /** A generation request like pi's: the path below the base URL, the query, the body. */
  request(stream: boolean): { path: string; search: string; body: unknown };
  usages: UsageCase[];
}

const MESSAGES = [{ role: "user", content: "hi" }];

export const API_CASES: ApiCase[] = [
  {
    dialect: openAiCompletions,
    provider: FAKE_PROVIDER,
    model: FAKE_MODEL,
    key: "fake-key",
    async start() {
      const fake = await startFakeLlm();
      return {
        url: fake.url,
        script: (steps) => fake.script(steps as Parameters<typeof fake.script>[0]),
        exchanges: () => fake.exchanges(),
        stop: () => fake.stop(),
      };
    },
    modelsJson: fakeProviderModelsJson,
    request: (stream) => ({
      path: "chat/completions",
      search: "",
      body: {
        model: FAKE_MODEL,
        messages: MESSAGES,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      },
    }),
    usages: [
      {
        name: "cached prompt tokens",
        scripted: {
          prompt_tokens: 1000,
          completion_tokens: 250,
          prompt_tokens_details: { cached_tokens: 600 },
        },
        expected: { input: 400, output: 250, cacheRead: 600, cacheWrite: 0 },
      },
      {
        name: "OpenRouter cache writes (counted in cached_tokens too)",
        scripted: {
          prompt_tokens: 1000,
          completion_tokens: 30,
          prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 100 },
          completion_tokens_details: { reasoning_tokens: 10 },
        },
        expected: { input: 400, output: 30, cacheRead: 500, cacheWrite: 100 },
      },
      {
        name: "no cache",
        scripted: { prompt_tokens: 12, completion_tokens: 3 },
        expected: { input: 12, output: 3, cacheRead: 0, cacheWrite: 0 },
      },
    ],
  },
  {
    dialect: openAiResponses,
    provider: FAKE_RESPONSES_PROVIDER,
    model: FAKE_RESPONSES_MODEL,
    key: FAKE_RESPONSES_KEY,
    async start() {
      const fake = startFakeOpenAiResponses();
      return {
        url: fake.url,
        script: (steps) => fake.script(steps as Parameters<typeof fake.script>[0]),
        exchanges: () => fake.requests(),
        stop: () => fake.stop(),
      };
    },
    modelsJson: fakeResponsesModelsJson,
    request: (stream) => ({
      path: "responses",
      search: "",
      body: { model: FAKE_RESPONSES_MODEL, input: MESSAGES, stream, store: false },
    }),
    usages: [
      {
        name: "cached input and reasoning tokens",
        scripted: {
          input_tokens: 1000,
          output_tokens: 250,
          input_tokens_details: { cached_tokens: 600 },
          output_tokens_details: { reasoning_tokens: 200 },
        },
        expected: { input: 400, output: 250, cacheRead: 600, cacheWrite: 0 },
      },
      {
        name: "no cache",
        scripted: { input_tokens: 12, output_tokens: 3 },
        expected: { input: 12, output: 3, cacheRead: 0, cacheWrite: 0 },
      },
    ],
  },
  {
    dialect: anthropicMessages,
    provider: FAKE_ANTHROPIC_PROVIDER,
    model: FAKE_ANTHROPIC_MODEL,
    key: FAKE_ANTHROPIC_KEY,
    async start() {
      const fake = startFakeAnthropic();
      return {
        url: fake.url,
        script: (steps) => fake.script(steps as Parameters<typeof fake.script>[0]),
        exchanges: () => fake.requests(),
        stop: () => fake.stop(),
      };
    },
    modelsJson: fakeAnthropicModelsJson,
    request: (stream) => ({
      path: "v1/messages",
      search: "",
      body: { model: FAKE_ANTHROPIC_MODEL, messages: MESSAGES, max_tokens: 1024, stream },
    }),
    usages: [
      {
        name: "cache reads and writes",
        scripted: {
          input_tokens: 400,
          output_tokens: 250,
          cache_read_input_tokens: 600,
          cache_creation_input_tokens: 300,
        },
        expected: { input: 400, output: 250, cacheRead: 600, cacheWrite: 300 },
      },
      {
        name: "no cache",
        scripted: { input_tokens: 12, output_tokens: 3 },
        expected: { input: 12, output: 3, cacheRead: 0, cacheWrite: 0 },
      },
    ],
  },
  {
    dialect: googleGenerativeAi,
    provider: FAKE_GOOGLE_PROVIDER,
    model: FAKE_GOOGLE_MODEL,
    key: FAKE_GOOGLE_KEY,
    async start() {
      const fake = startFakeGoogle();
      return {
        url: fake.url,
        script: (steps) => fake.script(steps as Parameters<typeof fake.script>[0]),
        exchanges: () => fake.requests(),
        stop: () => fake.stop(),
      };
    },
    modelsJson: fakeGoogleModelsJson,
    request: (stream) => ({
      path: `models/${FAKE_GOOGLE_MODEL}:${stream ? "streamGenerateContent" : "generateContent"}`,
      search: stream ? "?alt=sse" : "",
      body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
    }),
    usages: [
      {
        name: "cached content and thoughts",
        scripted: {
          promptTokenCount: 1000,
          candidatesTokenCount: 200,
          thoughtsTokenCount: 50,
          cachedContentTokenCount: 600,
        },
        expected: { input: 400, output: 250, cacheRead: 600, cacheWrite: 0 },
      },
      {
        name: "no cache",
        scripted: { promptTokenCount: 12, candidatesTokenCount: 3 },
        expected: { input: 12, output: 3, cacheRead: 0, cacheWrite: 0 },
      },
    ],
  },
];

/** The four figures of a usage record (pi's has totals and cost as well). */
export function tokens(usage: unknown): TokenUsage {
  const u = (usage ?? {}) as Record<string, unknown>;
  return { input: u.input, output: u.output, cacheRead: u.cacheRead, cacheWrite: u.cacheWrite } as TokenUsage;
}
