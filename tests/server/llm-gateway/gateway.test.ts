import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { usageDay } from "../../../src/server/store/index.ts";
import { type FakeLlm, startFakeLlm } from "../../fixtures/fake-llm.ts";
import { chatRequest, type GatewayHarness, startGateway } from "./gateway-harness.ts";

const REAL_KEY = "sk-real-provider-key-0123456789";
let llm: FakeLlm;
let gw: GatewayHarness;
let alice: string;
let bob: string;

beforeAll(async () => {
  llm = await startFakeLlm();
  gw = startGateway();
  alice = gw.addUser("alice");
  bob = gw.addUser("bob");
  gw.addProvider({
    name: "fake",
    api: "openai-completions",
    base_url: llm.url,
    api_key: REAL_KEY,
    models: [{ id: "fake-model", price: { input: 2, output: 10 } }, "fake-model-2"],
  });
});
afterAll(async () => {
  await gw.stop();
  await llm.stop();
});
beforeEach(() => {
  llm.reset();
  gw.store.db.run("DELETE FROM llm_limits");
});

const chat = { model: "fake-model", stream: true, messages: [{ role: "user", content: "hi" }] };

async function errorOf(response: Response) {
  return {
    status: response.status,
    body: (await response.json()) as { error: { message: string; code: string } },
  };
}

describe("forwarding", () => {
  test("the real key goes to the provider in its own header; the token never does; the stream is byte-exact", async () => {
    const token = gw.session(alice, "oqto-fwd-1");
    llm.script([{ text: ["Hel", "lo"], usage: { prompt_tokens: 40, completion_tokens: 7 } }]);
    const response = await chatRequest(gw.base, "fake", token, chat, {
      headers: { cookie: "oqto_session=secret", "x-api-key": token },
    });
    expect(response.status).toBe(200);
    const relayed = await response.text();
    const [exchange] = llm.exchanges();
    expect(exchange?.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
    expect(JSON.stringify(exchange?.headers)).not.toContain(token);
    expect(exchange?.headers.cookie).toBeUndefined();
    expect(relayed).toBe(new TextDecoder().decode(exchange?.response));
    // pi's stream asks for usage: the gateway made sure of it.
    expect(exchange?.body).toMatchObject({ stream_options: { include_usage: true } });
  });

  test("usage is recorded per user, session, model and day, priced from the model's table", async () => {
    const token = gw.session(alice, "oqto-usage-1");
    llm.script([
      { text: "one", usage: { prompt_tokens: 1000, completion_tokens: 500 } },
      { text: "two", usage: { prompt_tokens: 3000, completion_tokens: 100 } },
    ]);
    for (let i = 0; i < 2; i++) await (await chatRequest(gw.base, "fake", token, chat)).text();
    const totals = gw.store.llmUsage.sessionTotals(alice, "oqto-usage-1");
    expect(totals).toEqual({
      requests: 2,
      input_tokens: 4000,
      output_tokens: 600,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: (4000 * 2 + 600 * 10) / 1e6,
    });
    const report = gw.store.llmUsage.report({
      group: "model",
      from: usageDay(Date.now()),
      to: usageDay(Date.now()),
    });
    expect(report.rows.find((row) => row.key === "fake/fake-model")?.requests).toBeGreaterThanOrEqual(2);
  });

  test("a client that goes away cancels the provider's request", async () => {
    let upstreamCancelled = false;
    let sent = 0;
    const endless = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: () =>
        new Response(
          new ReadableStream({
            async pull(controller) {
              await Bun.sleep(20);
              sent++;
              controller.enqueue(new TextEncoder().encode(`data: {"n":${sent}}\n\n`));
            },
            cancel() {
              upstreamCancelled = true;
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    });
    gw.addProvider({
      name: "endless",
      api: "openai-completions",
      base_url: `http://127.0.0.1:${endless.port}/v1`,
      models: ["m"],
    });
    const token = gw.session(alice, "oqto-cancel-1");
    const abort = new AbortController();
    const response = await chatRequest(
      gw.base,
      "endless",
      token,
      { ...chat, model: "m" },
      { signal: abort.signal },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    const deadline = Date.now() + 3000;
    while (!upstreamCancelled && Date.now() < deadline) await Bun.sleep(20);
    expect(upstreamCancelled).toBe(true);
    const after = sent;
    await Bun.sleep(200);
    expect(sent).toBeLessThanOrEqual(after + 1);
    // The cut-off request still counts.
    expect(gw.store.llmUsage.sessionTotals(alice, "oqto-cancel-1").requests).toBe(1);
    await endless.stop(true);
  });
});

describe("refusals, in the provider's own error shape", () => {
  test("no token, an unknown token, a token whose process ended, another runner's session", async () => {
    const refusals: [string | undefined, number, string][] = [
      [undefined, 401, "carries no session token"],
      ["oqtok_guessed", 401, "not valid"],
    ];
    for (const [token, status, text] of refusals) {
      const { status: got, body } = await errorOf(await chatRequest(gw.base, "fake", token, chat));
      expect(got).toBe(status);
      expect(body.error.message).toContain(text);
    }
    const ended = gw.session(alice, "oqto-ended-1");
    gw.tokens.dropRunner(undefined);
    expect((await chatRequest(gw.base, "fake", ended, chat)).status).toBe(401);
    // Bob's runner registered a token for a session Alice owns: refused.
    gw.store.sessions.claimSession("oqto-alice-own", alice, "/w");
    const forged = gw.session(alice, "oqto-alice-own", bob);
    const { status, body } = await errorOf(await chatRequest(gw.base, "fake", forged, chat));
    expect(status).toBe(401);
    expect(body.error.message).toContain("does not belong");
    expect(llm.exchanges()).toHaveLength(0);
  });

  test("malformed JSON, an oversized body, unknown provider, model or route, a path escape", async () => {
    const token = gw.session(alice, "oqto-bad-1");
    const cases: [Promise<Response>, number][] = [
      [chatRequest(gw.base, "fake", token, "{not json"), 400],
      [
        chatRequest(gw.base, "fake", token, JSON.stringify({ ...chat, pad: "x".repeat(33 * 1024 * 1024) })),
        413,
      ],
      [chatRequest(gw.base, "nobody", token, chat), 404],
      [chatRequest(gw.base, "fake", token, { ...chat, model: "gpt-unknown" }), 404],
      [
        fetch(`${gw.base}/fake/..%2f..%2fadmin`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}` },
        }),
        400,
      ],
      [fetch(`${gw.base}/fake/../../etc`, { headers: { authorization: `Bearer ${token}` } }), 404],
    ];
    for (const [pending, status] of cases) {
      const response = await pending;
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { message: string } };
      expect(typeof body.error.message).toBe("string");
    }
    expect(llm.exchanges()).toHaveLength(0);
    expect(gw.logs.join("\n")).not.toContain(REAL_KEY);
    const db = readdirSync(join(gw.dir, "data")).filter((name) => name.startsWith("oqto.db"));
    for (const file of db) expect(readFileSync(join(gw.dir, "data", file)).includes(REAL_KEY)).toBe(false);
  });

  test("a disallowed model is refused with the reason; an allowed one goes through", async () => {
    const token = gw.session(alice, "oqto-allow-1");
    gw.store.llmLimits.set("role", "user", { models: ["fake/fake-model-2"] });
    const { status, body } = await errorOf(await chatRequest(gw.base, "fake", token, chat));
    expect(status).toBe(403);
    expect(body.error.message).toContain("fake/fake-model is not allowed");
    expect(body.error.message).toContain("fake/fake-model-2");
    llm.script([{ text: "ok" }]);
    expect((await chatRequest(gw.base, "fake", token, { ...chat, model: "fake-model-2" })).status).toBe(200);
    // A user's own allowance wins over the role's.
    gw.store.llmLimits.set("user", alice, { models: ["fake/*"] });
    llm.script([{ text: "ok" }]);
    expect((await chatRequest(gw.base, "fake", token, chat)).status).toBe(200);
  });

  test("over the daily budget: refused at once with what was spent and when it resets", async () => {
    const token = gw.session(bob, "oqto-budget-1");
    llm.script([{ text: "pricey", usage: { prompt_tokens: 100_000, completion_tokens: 10_000 } }]);
    gw.store.llmLimits.set("user", bob, { daily_budget_usd: 0.25 });
    expect((await chatRequest(gw.base, "fake", token, chat)).status).toBe(200);
    await Bun.sleep(50);
    const { status, body } = await errorOf(await chatRequest(gw.base, "fake", token, chat));
    expect(status).toBe(402);
    expect(body.error.message).toMatch(
      /daily budget of \$0\.25 is used up \(\$0\.30 spent\); it resets at 00:00 UTC/,
    );
    gw.store.llmLimits.set("user", bob, { daily_budget_usd: 10 });
    llm.script([{ text: "again" }]);
    expect((await chatRequest(gw.base, "fake", token, chat)).status).toBe(200);
  });

  test("over the request rate: 429 with Retry-After and how long to wait", async () => {
    const carol = gw.addUser("carol");
    const token = gw.session(carol, "oqto-rate-1");
    gw.store.llmLimits.set("user", carol, { rpm: 2 });
    llm.script([{ text: "1" }, { text: "2" }]);
    for (let i = 0; i < 2; i++) expect((await chatRequest(gw.base, "fake", token, chat)).status).toBe(200);
    const refused = await chatRequest(gw.base, "fake", token, chat);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(50);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /limit of 2 requests per minute is reached \(2 in the last minute\); try again in \d+ s/,
    );
  });

  test("a deactivated account's tokens stop working", async () => {
    const dave = gw.addUser("dave");
    const token = gw.session(dave, "oqto-dave-1");
    gw.store.db.run("UPDATE users SET is_active = 0 WHERE id = ?", [dave]);
    expect((await chatRequest(gw.base, "fake", token, chat)).status).toBe(403);
  });
});
