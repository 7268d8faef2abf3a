/** The scripted fake providers themselves: delays, hangs, scripted errors, the request log, control endpoints. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeAnthropic } from "../../fixtures/fake-anthropic.ts";
import { startFakeGoogle } from "../../fixtures/fake-google.ts";
import { startFakeOpenAiResponses } from "../../fixtures/fake-openai-responses.ts";
import type { FakeProvider } from "../../fixtures/fake-provider-server.ts";

interface FakeCase {
  name: string;
  start(): FakeProvider<Record<string, unknown>>;
  /** The generation URL below the fake's base URL. */
  path: string;
  body: Record<string, unknown>;
  /** The provider's error envelope, for the default error. */
  defaultError(status: number): unknown;
}

const CASES: FakeCase[] = [
  {
    name: "fake Anthropic",
    start: () => startFakeAnthropic() as unknown as FakeProvider<Record<string, unknown>>,
    path: "/v1/messages",
    body: { model: "fake-claude", messages: [], max_tokens: 10, stream: true },
    defaultError: (status) => ({
      type: "error",
      error: { type: status >= 500 ? "api_error" : "invalid_request_error", message: `fake error ${status}` },
    }),
  },
  {
    name: "fake OpenAI Responses",
    start: () => startFakeOpenAiResponses() as unknown as FakeProvider<Record<string, unknown>>,
    path: "/responses",
    body: { model: "fake-gpt", input: [], stream: true },
    defaultError: (status) => ({
      error: {
        message: `fake error ${status}`,
        type: status >= 500 ? "server_error" : "invalid_request_error",
        param: null,
        code: null,
      },
    }),
  },
  {
    name: "fake Google",
    start: () => startFakeGoogle() as unknown as FakeProvider<Record<string, unknown>>,
    path: "/models/fake-gemini:streamGenerateContent?alt=sse",
    body: { contents: [] },
    defaultError: (status) => ({
      error: {
        code: status,
        message: `fake error ${status}`,
        status: status >= 500 ? "INTERNAL" : "NOT_FOUND",
      },
    }),
  },
];

for (const c of CASES) {
  describe(c.name, () => {
    let fake: FakeProvider<Record<string, unknown>>;
    beforeAll(() => {
      fake = c.start();
    });
    afterAll(async () => {
      await fake.stop();
    });

    const post = (init: RequestInit = {}) =>
      fetch(`${fake.url}${c.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-test": "yes" },
        body: JSON.stringify(c.body),
        ...init,
      });

    test("listens on 127.0.0.1 and logs each request's headers and body with the bytes it answered", async () => {
      fake.reset();
      expect(new URL(fake.url).hostname).toBe("127.0.0.1");
      fake.script([{ text: ["a", "b"] }]);
      const response = await post();
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const body = await response.text();
      expect(body).toContain('"a"');
      const [logged, ...rest] = fake.requests();
      expect(rest).toHaveLength(0);
      expect(logged?.method).toBe("POST");
      expect(logged?.headers["x-test"]).toBe("yes");
      expect(logged?.body).toEqual(c.body);
      expect(new TextDecoder().decode(logged?.response)).toBe(body);
      expect(fake.pending()).toBe(0);
    });

    test("delayMs spaces the text deltas out", async () => {
      fake.script([{ text: ["one", "two", "three"], delayMs: 60 }]);
      const started = performance.now();
      await (await post()).text();
      expect(performance.now() - started).toBeGreaterThanOrEqual(170);
    });

    test("hang sends no text delta until the client goes away", async () => {
      fake.script([{ text: ["never"], hang: true }]);
      const abort = new AbortController();
      const response = await post({ signal: abort.signal });
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      let received = "";
      const reading = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += new TextDecoder().decode(value);
        }
      })().catch(() => undefined);
      await Bun.sleep(300);
      expect(received).not.toContain("never");
      abort.abort();
      await reading;
      expect(received).not.toContain("never");
    });

    test("a scripted error status answers the scripted body, or the provider's own error shape", async () => {
      fake.script([
        { status: 429, errorBody: { custom: true }, headers: { "retry-after": "7" } },
        { status: 503, delayMs: 10 },
      ]);
      const first = await post();
      expect(first.status).toBe(429);
      expect(first.headers.get("retry-after")).toBe("7");
      expect(await first.json()).toEqual({ custom: true });
      const second = await post();
      expect(second.status).toBe(503);
      expect(await second.json()).toEqual(c.defaultError(503));
      expect(fake.requests().at(-1)?.status).toBe(503);
    });

    test("a bad step is refused when scripted", () => {
      expect(() => fake.script([{ text: 5 }])).toThrow();
      expect(() => fake.script([{ usage: { bogus: 1 } }])).toThrow();
      expect(fake.pending()).toBe(0);
    });

    test("control endpoints: /__script, /__queue, /__requests, /__reset; unknown routes 404", async () => {
      const origin = `http://127.0.0.1:${fake.port}`;
      const scripted = await fetch(`${origin}/__script`, {
        method: "POST",
        body: JSON.stringify({ steps: [{ text: "x" }, { text: "y" }], replace: true }),
      });
      expect(await scripted.json()).toEqual({ queued: 2 });
      expect(await (await fetch(`${origin}/__queue`)).json()).toEqual({ pending: 2 });
      const refused = await fetch(`${origin}/__script`, {
        method: "POST",
        body: JSON.stringify({ steps: [{ text: 1 }] }),
      });
      expect(refused.status).toBe(400);
      await (await post()).text();
      const logged = (await (await fetch(`${origin}/__requests`)).json()) as Array<{ body: unknown }>;
      expect(logged.at(-1)?.body).toEqual(c.body);
      await fetch(`${origin}/__reset`, { method: "POST" });
      expect(fake.pending()).toBe(0);
      expect(fake.requests()).toHaveLength(0);
      const missing = await fetch(`${origin}/nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual(c.defaultError(404));
    });
  });
}
