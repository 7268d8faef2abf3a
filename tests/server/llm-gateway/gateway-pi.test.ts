/**
 * Real pi (RPC mode) talking to each scripted fake provider THROUGH the key-custody gateway, as in
 * production: pi's models.json is what serve generates (`buildModelsJson`, every provider at
 * `<gateway>/<name>` with the key `OQTO_LLM_TOKEN`), pi's environment carries a token registered with
 * the gateway, and the gateway holds the provider's real key. For each of the four APIs: the text
 * streams through, the fake sees the real key in its API's own header and never the token, and the
 * scripted usage, pi's usage on message_end and the gateway's record agree exactly. An Oqto refusal
 * (a model the user may not use) ends in pi's assistant error with the gateway's message, promptly.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { buildModelsJson } from "../../../src/llm/models-json.ts";
import { LLM_TOKEN_ENV } from "../../../src/protocol/llm.ts";
import type { PiAssistantMessage } from "../../../src/runner/harness/pi/pi-schemas.ts";
import type { LoggedExchange } from "../../fixtures/fake-provider-server.ts";
import { type AnyFake, API_CASES, tokens } from "./dialect-cases.ts";
import { type GatewayHarness, startGateway } from "./gateway-harness.ts";
import { PiOnFake } from "./pi-on-fake.ts";

const DELTAS = ["Through", " the ", "gateway", " ✓"];
/** USD per million tokens: pi prices from models.json, the gateway from the provider's table. */
const PRICE = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 };
/** A refusal must reach pi's error well within this (no retry loop, no hang). */
const REFUSAL_WITHIN_MS = 5_000;

function text(message: PiAssistantMessage): string {
  return message.content.flatMap((b) => (b.type === "text" ? [(b as { text: string }).text] : [])).join("");
}

/** The gateway records usage when the provider's body has ended: that can trail pi's message_end a little. */
async function recordedRequests(gw: GatewayHarness, userId: string, sessionId: string, count: number) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const totals = gw.store.llmUsage.sessionTotals(userId, sessionId);
    if (totals.requests >= count || Date.now() > deadline) return totals;
    await Bun.sleep(5);
  }
}

for (const c of API_CASES) {
  describe(`${c.dialect.api}: real pi through the gateway`, () => {
    const realKey = `sk-real-${c.provider}-${crypto.randomUUID()}`;
    const sessionId = `oqto-gw-pi-${c.provider}`;
    let fake: AnyFake;
    let gw: GatewayHarness;
    let pi: PiOnFake;
    let userId: string;
    let token: string;

    beforeAll(async () => {
      fake = await c.start();
      gw = startGateway();
      userId = gw.addUser("alice");
      gw.addProvider({
        name: c.provider,
        api: c.dialect.api,
        base_url: fake.url,
        api_key: realKey,
        models: [{ id: c.model, price: PRICE }],
      });
      token = gw.session(userId, sessionId);
      const modelsJson = buildModelsJson(gw.catalog.providers(), gw.base, LLM_TOKEN_ENV);
      pi = await PiOnFake.start({ ...modelsJson }, c.provider, c.model, { env: { [LLM_TOKEN_ENV]: token } });
    }, 60_000);
    afterAll(async () => {
      await pi?.stop();
      await gw?.stop();
      await fake?.stop();
    });
    beforeEach(() => {
      gw.store.db.run("DELETE FROM llm_limits");
    });

    test("models.json holds no key: the gateway's URL and the name of the token's variable", () => {
      const modelsJson = buildModelsJson(gw.catalog.providers(), gw.base, LLM_TOKEN_ENV);
      expect(Object.keys(modelsJson.providers)).toEqual([c.provider]);
      expect(modelsJson.providers[c.provider]).toMatchObject({
        baseUrl: `${gw.base}/${c.provider}`,
        api: c.dialect.api,
        apiKey: LLM_TOKEN_ENV,
      });
      expect(JSON.stringify(modelsJson)).not.toContain(realKey);
      expect(JSON.stringify(modelsJson)).not.toContain(token);
    });

    for (const u of c.usages) {
      test(`${u.name}: text streams through; the fake gets the real key, never the token; scripted = pi = recorded`, async () => {
        fake.script([{ text: DELTAS, usage: u.scripted }]);
        const exchangesBefore = fake.exchanges().length;
        const before = gw.store.llmUsage.sessionTotals(userId, sessionId);
        const from = pi.events.length;
        const messages = await pi.prompt("Say hello.");

        expect(messages).toHaveLength(1);
        const message = messages[0] as PiAssistantMessage;
        expect(message.errorMessage).toBeUndefined();
        expect(message.stopReason).toBe("stop");
        expect(pi.textDeltas(from)).toEqual(DELTAS);
        expect(text(message)).toBe(DELTAS.join(""));

        const exchanges = fake.exchanges().slice(exchangesBefore);
        expect(exchanges).toHaveLength(1);
        const exchange = exchanges[0] as LoggedExchange;
        expect(exchange.status).toBe(200);
        const [header, value] = c.dialect.authHeader(realKey);
        expect(exchange.headers[header]).toBe(value);
        expect(JSON.stringify(exchange.headers)).not.toContain(token);
        expect(exchange.search).not.toContain(token);
        expect(JSON.stringify(exchange.body)).not.toContain(token);

        // Three figures, exactly equal: what the fake scripted (in its API's shape, mapped by the case),
        // what pi reported on message_end, and what the gateway recorded for the session.
        expect(tokens(message.usage)).toEqual(u.expected);
        const after = await recordedRequests(gw, userId, sessionId, before.requests + 1);
        expect(after.requests - before.requests).toBe(1);
        expect({
          input: after.input_tokens - before.input_tokens,
          output: after.output_tokens - before.output_tokens,
          cacheRead: after.cache_read_tokens - before.cache_read_tokens,
          cacheWrite: after.cache_write_tokens - before.cache_write_tokens,
        }).toEqual(u.expected);
        // And the same price table gives the same cost (summed in a different order: float-close).
        const piCost = (message.usage as { cost?: { total?: number } }).cost?.total ?? Number.NaN;
        expect(after.cost_usd - before.cost_usd).toBeCloseTo(piCost, 12);
        expect(piCost).toBeGreaterThan(0);
      });
    }

    test("a model the user may not use: pi's assistant error carries the gateway's message, at once", async () => {
      gw.store.llmLimits.set("user", userId, { models: [] });
      const exchangesBefore = fake.exchanges().length;
      const before = gw.store.llmUsage.sessionTotals(userId, sessionId);
      const started = performance.now();
      const messages = await pi.prompt("Say hello once more.", REFUSAL_WITHIN_MS);
      const elapsed = performance.now() - started;

      expect(elapsed).toBeLessThan(REFUSAL_WITHIN_MS);
      expect(messages).toHaveLength(1);
      const message = messages[0] as PiAssistantMessage;
      expect(message.stopReason).toBe("error");
      expect(message.errorMessage).toContain(
        `Oqto: the model ${c.provider}/${c.model} is not allowed for your account. Pick another model or ask an admin.`,
      );
      // Refused before the provider: nothing reached the fake, nothing was spent.
      expect(fake.exchanges().length).toBe(exchangesBefore);
      expect(gw.store.llmUsage.sessionTotals(userId, sessionId)).toEqual(before);
    });

    test("after the limits row is gone, the same pi streams again", async () => {
      fake.script([{ text: ["back"] }]);
      const messages = await pi.prompt("Again.");
      expect(messages.map(text)).toEqual(["back"]);
    });
  });
}
