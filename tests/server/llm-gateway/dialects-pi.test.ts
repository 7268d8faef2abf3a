/**
 * Each dialect against real pi (RPC mode) talking directly to the scripted fake of its API: pi streams
 * the fake's text, pi's usage on message_end equals the scripted usage and so does the dialect's meter
 * over the very bytes the fake sent; the request pi made is read by the dialect as the gateway would;
 * and an error made by `dialect.error()` ends in an assistant message whose errorMessage has its text.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PiAssistantMessage } from "../../../src/runner/harness/pi/pi-schemas.ts";
import type { LoggedExchange } from "../../fixtures/fake-provider-server.ts";
import { type AnyFake, API_CASES, tokens } from "./dialect-cases.ts";
import { PiOnFake } from "./pi-on-fake.ts";

const DELTAS = ["Hello", " from", " the fake ", "provider ✓"];
const ERROR_MESSAGE = "Oqto: this account's monthly token limit is used up (resets on the 1st).";

function text(message: PiAssistantMessage): string {
  return message.content.flatMap((b) => (b.type === "text" ? [(b as { text: string }).text] : [])).join("");
}

/** The path below the fake's base URL (`chat/completions`, `v1/messages`, `models/x:streamGenerateContent`). */
function pathBelow(baseUrl: string, exchange: LoggedExchange): string {
  const basePath = new URL(baseUrl).pathname.replace(/\/$/, "");
  expect(exchange.path.startsWith(`${basePath}/`)).toBe(true);
  return exchange.path.slice(basePath.length + 1);
}

for (const c of API_CASES) {
  describe(`${c.dialect.api} with real pi`, () => {
    let fake: AnyFake;
    let pi: PiOnFake;
    beforeAll(async () => {
      fake = await c.start();
      pi = await PiOnFake.start(c.modelsJson(fake.url), c.provider, c.model);
    }, 60_000);
    afterAll(async () => {
      await pi?.stop();
      await fake?.stop();
    });

    for (const u of c.usages) {
      test(`${u.name}: pi streams the text; pi, the scripted figures and the meter agree on usage`, async () => {
        fake.script([{ text: DELTAS, usage: u.scripted }]);
        const before = fake.exchanges().length;
        const from = pi.events.length;
        const messages = await pi.prompt("Say hello.");
        expect(messages).toHaveLength(1);
        const message = messages[0] as PiAssistantMessage;
        expect(message.stopReason).toBe("stop");
        expect(message.errorMessage).toBeUndefined();
        expect(text(message)).toBe(DELTAS.join(""));
        expect(pi.textDeltas(from)).toEqual(DELTAS);
        expect(tokens(message.usage)).toEqual(u.expected);

        const exchanges = fake.exchanges().slice(before);
        expect(exchanges).toHaveLength(1);
        const exchange = exchanges[0] as LoggedExchange;
        expect(exchange.status).toBe(200);
        const meter = c.dialect.meter(exchange.contentType);
        for (let i = 0; i < exchange.response.length; i += 13)
          meter.push(exchange.response.subarray(i, i + 13));
        expect(meter.finish()).toEqual(u.expected);
      });
    }

    test("the dialect reads pi's request: key, model, usage request", async () => {
      fake.script([{ text: "OK" }]);
      await pi.prompt("Say OK.");
      const exchange = fake.exchanges().at(-1);
      if (!exchange) throw new Error("pi sent no request");
      const url = new URL(`${fake.url.replace(/\/v1(beta)?$/, "")}${exchange.path}${exchange.search}`);
      const request = new Request(url, { method: exchange.method, headers: exchange.headers });
      expect(c.dialect.presentedKey(request, url)).toBe(c.key);
      const [name, value] = c.dialect.authHeader(c.key);
      expect(exchange.headers[name]).toBe(value);
      const dialectRequest = { path: pathBelow(fake.url, exchange), body: exchange.body };
      expect(c.dialect.model(dialectRequest)).toBe(c.model);
      // pi already asks for what the provider must be asked: forwarding changes nothing it sent.
      expect(c.dialect.withUsageReported(dialectRequest)).toEqual(exchange.body);
    });

    test("an error made by dialect.error() ends in pi's errorMessage", async () => {
      const error = c.dialect.error(429, ERROR_MESSAGE, "quota_exceeded");
      fake.script([{ status: error.status, errorBody: await error.json() }]);
      const before = fake.exchanges().length;
      const messages = await pi.prompt("Say hello again.");
      expect(messages).toHaveLength(1);
      const message = messages[0] as PiAssistantMessage;
      expect(message.stopReason).toBe("error");
      expect(message.errorMessage).toContain(ERROR_MESSAGE);
      expect(message.errorMessage).toContain("429");
      // pi's provider retries are off (settings retry.provider.maxRetries 0): one request, no retry.
      expect(fake.exchanges().length - before).toBe(1);
    });
  });
}

describe("openai-completions with a pi that does not ask for usage", () => {
  const c = API_CASES.find((x) => x.dialect.api === "openai-completions");
  let fake: AnyFake;
  let pi: PiOnFake;
  beforeAll(async () => {
    if (!c) throw new Error("no openai-completions case");
    fake = await c.start();
    const modelsJson = c.modelsJson(fake.url) as {
      providers: Record<string, { compat: Record<string, unknown> }>;
    };
    const provider = modelsJson.providers[c.provider];
    if (provider) provider.compat.supportsUsageInStreaming = false;
    pi = await PiOnFake.start(modelsJson, c.provider, c.model);
  }, 60_000);
  afterAll(async () => {
    await pi?.stop();
    await fake?.stop();
  });

  test("compat.supportsUsageInStreaming false: pi sends no stream_options, withUsageReported adds them", async () => {
    if (!c) throw new Error("no openai-completions case");
    await pi.prompt("Say hello.");
    const exchange = fake.exchanges().at(-1);
    if (!exchange) throw new Error("pi sent no request");
    const body = exchange.body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.stream_options).toBeUndefined();
    const forwarded = c.dialect.withUsageReported({ path: pathBelow(fake.url, exchange), body });
    expect(forwarded).toEqual({ ...body, stream_options: { include_usage: true } });
  });
});
