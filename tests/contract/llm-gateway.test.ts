/**
 * The LLM gateway contract: one suite on a real socket, run against each back end behind the gateway — the
 * embedded provider catalog (the admin's provider and key; fake upstream tests/fixtures/fake-llm.ts) and
 * eavs (one virtual key per user, made at the user's first request; tests/fixtures/fake-eavs.ts behind a
 * recording tap, so the exact bytes eavs answered can be compared). Whatever stands behind it, pi's
 * streamed answer passes through byte-exact, the right credential reaches upstream, usage is recorded,
 * and an unknown model, a disallowed model and a missing token are refused the same way.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { EavsClient } from "../../src/llm/eavs/eavs-client.ts";
import { ProviderBody } from "../../src/protocol/llm.ts";
import { EavsBackend } from "../../src/server/llm-gateway/eavs-backend.ts";
import { eavsKeyName } from "../../src/server/llm-gateway/eavs-keys.ts";
import type { Store } from "../../src/server/store/index.ts";
import { FAKE_EAVS_MASTER_KEY, startFakeEavs } from "../fixtures/fake-eavs.ts";
import { startFakeLlm } from "../fixtures/fake-llm.ts";
import { startGateway } from "../server/llm-gateway/gateway-harness.ts";

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** One upstream chat request: the credential it carried and the exact bytes it was answered with. */
interface UpstreamChat {
  headers: Record<string, string>;
  response: string;
}

/** A gateway on a real socket in front of one back end, with the upstream's view of it. */
interface Subject {
  /** `http://127.0.0.1:PORT/llm` */
  base: string;
  provider: string;
  model: string;
  /** USD per million tokens of `model`. */
  price: { input: number; output: number };
  store: Store;
  addUser(username: string): string;
  /** Claims the session for the user and registers a fresh token for it. */
  session(userId: string, sessionId: string): string;
  script(text: string[], usage: Usage): void;
  /** Every chat completion request that reached upstream, oldest first. */
  upstreamChats(): UpstreamChat[];
  /** The credential upstream must see for the user's requests (`Authorization: Bearer <it>`). */
  credentialOf(userId: string): string | undefined;
  /** Every user has a credential of their own (eavs), or all share the admin's (embedded). */
  perUserCredential: boolean;
  stop(): Promise<void>;
}

interface Implementation {
  name: string;
  start(): Promise<Subject>;
}

const REAL_KEY = "sk-contract-admin-key-0123456789";

/** A reverse proxy that answers what `target` answers and remembers every answer's exact bytes. */
function startTap(target: string) {
  const log: { path: string; headers: Record<string, string>; response: string }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.delete("host");
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
      const answer = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        ...(body !== undefined && { body }),
        redirect: "manual",
      });
      const bytes = await answer.text();
      log.push({ path: url.pathname, headers: Object.fromEntries(request.headers), response: bytes });
      const out = new Headers(answer.headers);
      out.delete("content-length");
      out.delete("content-encoding");
      return new Response(bytes, { status: answer.status, headers: out });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, log, stop: () => server.stop(true) };
}

const implementations: Implementation[] = [
  {
    name: "embedded provider catalog",
    async start() {
      const llm = await startFakeLlm();
      const gw = startGateway();
      const price = { input: 2, output: 10 };
      gw.catalog.create(
        ProviderBody.parse({
          name: "fake",
          api: "openai-completions",
          base_url: llm.url,
          api_key: REAL_KEY,
          models: [{ id: "fake-model", price }],
        }),
      );
      return {
        ...gw,
        provider: "fake",
        model: "fake-model",
        price,
        script: (text, usage) => llm.script([{ text, usage }]),
        upstreamChats: () =>
          llm.exchanges().map((exchange) => ({
            headers: exchange.headers,
            response: new TextDecoder().decode(exchange.response),
          })),
        credentialOf: () => REAL_KEY,
        perUserCredential: false,
        async stop() {
          await gw.stop();
          await llm.stop();
        },
      };
    },
  },
  {
    name: "eavs (a virtual key per user)",
    async start() {
      const cost = { input: 3, output: 15, cache_read: 0.3 };
      const eavs = await startFakeEavs({
        providers: [
          {
            name: "openrouter",
            type: "openrouter",
            pi_api: "openai-completions",
            oauth: false,
            has_api_key: true,
            models: [
              {
                id: "some/model",
                name: "Some Model",
                reasoning: false,
                input: ["text"],
                context_window: 100_000,
                max_tokens: 8192,
                cost,
              },
            ],
          },
        ],
      });
      const tap = startTap(eavs.url);
      const gw = startGateway(
        (store, vault) =>
          new EavsBackend({
            store,
            vault,
            client: new EavsClient({ baseUrl: tap.url, masterKey: FAKE_EAVS_MASTER_KEY }),
            log: () => {},
          }),
      );
      await (gw.backend as EavsBackend).start();
      return {
        ...gw,
        provider: "openrouter",
        model: "some/model",
        price: cost,
        script: (text, usage) => eavs.script([{ text, usage }]),
        upstreamChats: () =>
          tap.log
            .filter((entry) => entry.path === "/openrouter/v1/chat/completions")
            .map(({ headers, response }) => ({ headers, response })),
        credentialOf: (userId) => eavs.keys().find((key) => key.name === eavsKeyName(userId))?.key,
        perUserCredential: true,
        async stop() {
          await gw.stop();
          await tap.stop();
          await eavs.stop();
        },
      };
    },
  },
];

for (const implementation of implementations) {
  describe(`LLM gateway contract: ${implementation.name}`, () => {
    let subject: Subject;
    let alice: string;
    let bob: string;

    const chat = (token: string | undefined, model = subject.model) =>
      fetch(`${subject.base}/${subject.provider}/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
      });

    const errorOf = async (response: Response) => ({
      status: response.status,
      body: (await response.json()) as { error: { message: string; code: string } },
    });

    beforeAll(async () => {
      subject = await implementation.start();
      alice = subject.addUser("alice");
      bob = subject.addUser("bob");
    });
    afterAll(() => subject.stop());
    beforeEach(() => {
      subject.store.db.run("DELETE FROM llm_limits");
    });

    test("a streamed chat passes through byte-exact, with the user's credential reaching upstream", async () => {
      const token = subject.session(alice, "contract-stream-1");
      subject.script(["Hel", "lo"], { prompt_tokens: 40, completion_tokens: 7 });
      const before = subject.upstreamChats().length;
      const response = await chat(token);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const relayed = await response.text();
      const chats = subject.upstreamChats();
      expect(chats.length).toBe(before + 1);
      const upstream = chats.at(-1);
      expect(relayed).toBe(upstream?.response ?? "");
      expect(relayed).toContain('"Hel"');
      const credential = subject.credentialOf(alice);
      expect(credential).toBeString();
      expect(upstream?.headers.authorization).toBe(`Bearer ${credential}`);
      // pi's session token never leaves the gateway.
      expect(JSON.stringify(upstream?.headers)).not.toContain(token);
    });

    test("each user's requests carry that user's credential upstream", async () => {
      const token = subject.session(bob, "contract-bob-1");
      subject.script(["B"], { prompt_tokens: 1, completion_tokens: 1 });
      await (await chat(token)).text();
      const upstream = subject.upstreamChats().at(-1);
      expect(upstream?.headers.authorization).toBe(`Bearer ${subject.credentialOf(bob)}`);
      const shared = subject.credentialOf(bob) === subject.credentialOf(alice);
      expect(shared).toBe(!subject.perUserCredential);
    });

    test("usage is recorded for the user and session, priced from the model", async () => {
      const token = subject.session(alice, "contract-usage-1");
      subject.script(["one"], { prompt_tokens: 1000, completion_tokens: 500 });
      await (await chat(token)).text();
      // The meter records when the relayed body ends, which may be just after the client has read it.
      for (
        let i = 0;
        i < 50 && subject.store.llmUsage.sessionTotals(alice, "contract-usage-1").requests === 0;
        i++
      )
        await Bun.sleep(10);
      expect(subject.store.llmUsage.sessionTotals(alice, "contract-usage-1")).toEqual({
        requests: 1,
        input_tokens: 1000,
        output_tokens: 500,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_usd: (1000 * subject.price.input + 500 * subject.price.output) / 1e6,
      });
    });

    test("a model the provider does not offer is a 404, and nothing reaches upstream", async () => {
      const token = subject.session(alice, "contract-unknown-1");
      const before = subject.upstreamChats().length;
      const { status, body } = await errorOf(await chat(token, "no-such-model"));
      expect(status).toBe(404);
      expect(body.error.code).toBe("model_not_found");
      expect(subject.upstreamChats().length).toBe(before);
    });

    test("a model the user's limits do not allow is a 403, and nothing reaches upstream", async () => {
      subject.store.llmLimits.set("user", alice, { models: ["elsewhere/*"] });
      const token = subject.session(alice, "contract-denied-1");
      const before = subject.upstreamChats().length;
      const { status, body } = await errorOf(await chat(token));
      expect(status).toBe(403);
      expect(body.error.code).toBe("model_not_allowed");
      expect(body.error.message).toContain(`${subject.provider}/${subject.model}`);
      expect(subject.upstreamChats().length).toBe(before);
    });

    test("a request without a session token is a 401, and nothing reaches upstream", async () => {
      const before = subject.upstreamChats().length;
      const { status, body } = await errorOf(await chat(undefined));
      expect(status).toBe(401);
      expect(body.error.code).toBe("unauthorized");
      expect(subject.upstreamChats().length).toBe(before);
    });
  });
}
