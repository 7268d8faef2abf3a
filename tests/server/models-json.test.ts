import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildModelsJson, buildSettings } from "../../src/llm/models-json.ts";
import { LLM_TOKEN_ENV } from "../../src/protocol/llm.ts";
import { type FakeLlm, startFakeLlm } from "../fixtures/fake-llm.ts";
import { runProcess } from "../helpers/run-process.ts";

const PI_CLI = resolve(import.meta.dir, "../../node_modules/@mariozechner/pi-coding-agent/dist/cli.js");

const GATEWAY = "http://127.0.0.1:8080/llm";
const openai = {
  name: "local",
  api: "openai-completions" as const,
  models: [{ id: "qwen3" }, { id: "llama4", name: "Llama 4", context_window: 131072, max_tokens: 8192 }],
};
const anthropic = {
  name: "claude",
  api: "anthropic-messages" as const,
  models: [
    {
      id: "claude-x",
      reasoning: true,
      input: ["text" as const, "image" as const],
      price: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
    },
  ],
};

describe("buildModelsJson / buildSettings", () => {
  test("maps providers to pi's models.json shape, with a generic compat block for openai-completions", () => {
    expect(buildModelsJson([openai, anthropic], GATEWAY, LLM_TOKEN_ENV)).toEqual({
      providers: {
        local: {
          baseUrl: "http://127.0.0.1:8080/llm/local",
          api: "openai-completions",
          apiKey: "OQTO_LLM_TOKEN",
          compat: {
            supportsDeveloperRole: false,
            supportsReasoningEffort: false,
            supportsStore: false,
            supportsStrictMode: false,
            maxTokensField: "max_tokens",
          },
          models: [
            { id: "qwen3", name: "qwen3" },
            { id: "llama4", name: "Llama 4", contextWindow: 131072, maxTokens: 8192 },
          ],
        },
        claude: {
          baseUrl: "http://127.0.0.1:8080/llm/claude",
          api: "anthropic-messages",
          apiKey: "OQTO_LLM_TOKEN",
          models: [
            {
              id: "claude-x",
              name: "claude-x",
              reasoning: true,
              input: ["text", "image"],
              cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
            },
          ],
        },
      },
    });
    expect(buildModelsJson([], GATEWAY, LLM_TOKEN_ENV)).toEqual({ providers: {} });
  });

  test("the first provider's first model is the default", () => {
    expect(buildSettings([anthropic, openai])).toEqual({
      defaultProvider: "claude",
      defaultModel: "claude-x",
    });
    expect(buildSettings([])).toEqual({});
  });
});

describe("a real pi with the generated files", () => {
  let llm: FakeLlm;
  let dir: string;
  beforeAll(async () => {
    llm = await startFakeLlm();
    dir = mkdtempSync("/tmp/oqm-");
  });
  afterAll(async () => {
    await llm.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("talks to a generic OpenAI-compatible server with the system role and max_tokens, keyed by its env token", async () => {
    // Named "v1" with the fake's origin as the "gateway", the provider's base URL is the fake's own.
    const providers = [{ name: "v1", api: "openai-completions" as const, models: [{ id: "fake-model" }] }];
    const agentDir = join(dir, "agent");
    mkdirSync(agentDir, { recursive: true });
    writeFileSync(
      join(agentDir, "models.json"),
      JSON.stringify(buildModelsJson(providers, new URL(llm.url).origin, LLM_TOKEN_ENV)),
    );
    writeFileSync(
      join(agentDir, "settings.json"),
      JSON.stringify({ ...buildSettings(providers), quietStartup: true, retry: { enabled: false } }),
    );
    llm.script([{ text: "generated config works" }]);
    const { stdout, stderr, code } = await runProcess(
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
          [LLM_TOKEN_ENV]: "oqtok_process-token",
        },
      },
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("generated config works");
    const [request] = llm.requests() as Record<string, unknown>[];
    expect(request?.model).toBe("fake-model");
    // pi resolved the key from the process's environment: models.json names the variable, never a secret.
    expect(llm.exchanges()[0]?.headers.authorization).toBe("Bearer oqtok_process-token");
    const messages = request?.messages as { role: string }[];
    expect(messages[0]?.role).toBe("system");
    expect(messages.some((message) => message.role === "developer")).toBe(false);
    expect(request).toHaveProperty("max_tokens");
    expect(request).not.toHaveProperty("max_completion_tokens");
    expect(request).not.toHaveProperty("store");
    expect(request).not.toHaveProperty("reasoning_effort");
    const tools = (request?.tools ?? []) as { function: Record<string, unknown> }[];
    expect(tools.length).toBeGreaterThan(0);
    for (const tool of tools) expect(tool.function).not.toHaveProperty("strict");
  });
});
