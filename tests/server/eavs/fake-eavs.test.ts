/** The fake eavs' proxy and admin rules themselves, and a real pi talking to it through eavs' models.json. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EavsClient } from "../../../src/llm/eavs/eavs-client.ts";
import { buildEavsModelsJson } from "../../../src/llm/eavs/eavs-models.ts";
import { toEavsPermissions } from "../../../src/llm/eavs/eavs-permissions.ts";
import { FAKE_EAVS_MASTER_KEY, type FakeEavs, startFakeEavs } from "../../fixtures/fake-eavs.ts";
import { runProcess } from "../../helpers/run-process.ts";
import { OPENROUTER } from "./eavs-details.ts";

const PI_CLI = resolve(import.meta.dir, "../../../node_modules/@mariozechner/pi-coding-agent/dist/cli.js");

interface ProxyAnswer {
  status: number;
  body: string;
}

async function proxy(
  eavs: FakeEavs,
  headers: Record<string, string>,
  body: unknown = { model: "some/model", messages: [{ role: "user", content: "hi" }] },
  path = "/openrouter/v1/chat/completions",
): Promise<ProxyAnswer> {
  const response = await fetch(`${eavs.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

function errorCode(answer: ProxyAnswer): unknown {
  return (JSON.parse(answer.body) as { error: { code: unknown } }).error.code;
}

describe("fake eavs", () => {
  let eavs: FakeEavs;
  let client: EavsClient;
  const newKey = async (permissions: Record<string, unknown> = {}) =>
    (await client.createKey({ name: "t", permissions, metadata: {} })).key;

  beforeAll(async () => {
    eavs = await startFakeEavs({ providers: [OPENROUTER] });
    client = new EavsClient({ baseUrl: eavs.url, masterKey: FAKE_EAVS_MASTER_KEY });
  });
  afterAll(() => eavs.stop());
  beforeEach(() => eavs.reset());

  test("the proxy streams the scripted text as OpenAI SSE, with usage", async () => {
    const key = await newKey();
    eavs.script([{ text: ["Hel", "lo"], usage: { prompt_tokens: 7, completion_tokens: 2 } }]);
    const answer = await proxy(
      eavs,
      { authorization: `Bearer ${key}` },
      {
        model: "some/model",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      },
    );
    expect(answer.status).toBe(200);
    const events = answer.body
      .split("\n\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => line.slice("data: ".length));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: { delta: { content?: string } }[]; usage?: unknown });
    const text = chunks.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? "")).join("");
    expect(text).toBe("Hello");
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
  });

  test("stream: false gets one JSON completion; x-api-key is accepted like Bearer", async () => {
    const key = await newKey();
    eavs.script([{ text: "plain" }]);
    const answer = await proxy(
      eavs,
      { "x-api-key": key },
      {
        model: "some/model",
        stream: false,
        messages: [],
      },
    );
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("plain");
  });

  test("no key, an unknown key: 401 invalid_api_key", async () => {
    expect(errorCode(await proxy(eavs, {}))).toBe("invalid_api_key");
    const unknown = await proxy(eavs, { authorization: "Bearer eavs_not-a-key" });
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.body)).toEqual({
      error: { message: "Invalid API key", type: "authentication_error", code: "invalid_api_key" },
    });
    // The master key is no virtual key either.
    expect((await proxy(eavs, { authorization: `Bearer ${FAKE_EAVS_MASTER_KEY}` })).status).toBe(401);
  });

  test("allowed_models: other models are 403 model_not_allowed", async () => {
    const key = await newKey(toEavsPermissions({ allowed_models: ["some/*"] }));
    const auth = { authorization: `Bearer ${key}` };
    expect((await proxy(eavs, auth)).status).toBe(200);
    const refused = await proxy(eavs, auth, { model: "tiny", messages: [] });
    expect(refused.status).toBe(403);
    expect(errorCode(refused)).toBe("model_not_allowed");
  });

  test("rpm_limit: the request past the limit in a minute is 429 rate_limit_exceeded", async () => {
    const key = await newKey(toEavsPermissions({ rpm: 2 }));
    const auth = { authorization: `Bearer ${key}` };
    expect((await proxy(eavs, auth)).status).toBe(200);
    expect((await proxy(eavs, auth)).status).toBe(200);
    const limited = await proxy(eavs, auth);
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body)).toEqual({
      error: {
        message: "Rate limit exceeded: 2 requests per minute",
        type: "rate_limit_error",
        code: "rate_limit_exceeded",
      },
    });
  });

  test("max_budget_usd: once the window's spend reaches it, 429 budget_exceeded", async () => {
    // 100 input tokens × $3/M + 20 output × $15/M = $0.0006 a request.
    const key = await newKey(toEavsPermissions({ budget_usd: 0.001 }));
    const auth = { authorization: `Bearer ${key}` };
    expect((await proxy(eavs, auth)).status).toBe(200);
    expect((await proxy(eavs, auth)).status).toBe(200);
    const broke = await proxy(eavs, auth);
    expect(broke.status).toBe(429);
    expect(errorCode(broke)).toBe("budget_exceeded");
    expect(JSON.parse(broke.body).error.message).toBe("Budget exceeded: $0.0012 used of $0.0010 limit");
  });

  test("defaults fill unset rpm and budget, as keys.default_* do", async () => {
    const withDefaults = await startFakeEavs({ defaultRpmLimit: 10, defaultBudgetUsd: 2 });
    try {
      const c = new EavsClient({ baseUrl: withDefaults.url, masterKey: FAKE_EAVS_MASTER_KEY });
      const created = await c.createKey({ name: "d", permissions: { rpm_limit: 3 }, metadata: {} });
      expect(created.permissions).toEqual({ rpm_limit: 3, max_budget_usd: 2 });
    } finally {
      await withDefaults.stop();
    }
  });

  test("admin routes: no key or a wrong one is 401 unauthorized; a body that is not JSON is 400", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer nope" },
      { authorization: FAKE_EAVS_MASTER_KEY },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${eavs.url}/admin/keys`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: "Invalid master key", code: "unauthorized" });
    }
    const bad = await fetch(`${eavs.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${FAKE_EAVS_MASTER_KEY}`, "content-type": "application/json" },
      body: "{",
    });
    expect(bad.status).toBe(400);
  });

  test("an unknown provider prefix is 404 from the proxy", async () => {
    const key = await newKey();
    const answer = await proxy(eavs, { authorization: `Bearer ${key}` }, {}, "/nowhere/v1/chat/completions");
    expect(answer.status).toBe(404);
    expect(errorCode(answer)).toBe("provider_not_found");
  });
});

describe("a real pi through the fake eavs with eavs' models.json", () => {
  let eavs: FakeEavs;
  let dir: string;
  beforeAll(async () => {
    eavs = await startFakeEavs({ providers: [OPENROUTER] });
    dir = mkdtempSync("/tmp/oqeavs-");
  });
  afterAll(async () => {
    await eavs.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function runPi(agentDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return runProcess(
      [
        process.execPath,
        PI_CLI,
        "-p",
        "--no-session",
        "--no-context-files",
        "--no-extensions",
        "--no-skills",
        "hi",
      ],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: dir,
          PI_CODING_AGENT_DIR: agentDir,
          PI_OFFLINE: "1",
        },
      },
    );
  }

  test("pi sends the virtual key to /<provider>/v1 and gets the answer; an exhausted budget reaches pi", async () => {
    const client = new EavsClient({ baseUrl: eavs.url, masterKey: FAKE_EAVS_MASTER_KEY });
    const created = await client.createKey({
      name: "oqto-user-pi",
      permissions: toEavsPermissions({ budget_usd: 0.0005 }),
      metadata: { oqto_user_id: "pi" },
    });
    const agentDir = join(dir, "agent");
    mkdirSync(agentDir, { recursive: true });
    const modelsJson = buildEavsModelsJson(await client.providersDetail(), {
      baseUrl: eavs.url,
      virtualKey: created.key,
    });
    writeFileSync(join(agentDir, "models.json"), JSON.stringify(modelsJson));
    writeFileSync(
      join(agentDir, "settings.json"),
      JSON.stringify({
        defaultProvider: "eavs-openrouter",
        defaultModel: "some/model",
        quietStartup: true,
        retry: { enabled: false, provider: { maxRetries: 0 } },
      }),
    );

    eavs.script([{ text: "answered through eavs" }]);
    const first = await runPi(agentDir);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: "" });
    expect(first.stdout).toContain("answered through eavs");
    const completions = eavs.requests().filter((r) => r.path === "/openrouter/v1/chat/completions");
    expect(completions).toHaveLength(1);
    expect(completions[0]?.headers.authorization).toBe(`Bearer ${created.key}`);
    expect(completions[0]?.body).toMatchObject({ model: "some/model" });
    expect((await client.getKey(created.key_id)).usage.total_requests).toBe(1);

    // $0.0006 spent of $0.0005: the next request is refused, and pi says why.
    const second = await runPi(agentDir);
    expect(`${second.stdout}\n${second.stderr}`).toContain("Budget exceeded");
  });
});
