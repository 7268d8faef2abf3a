import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildModelsJson, buildSettings } from "../../src/llm/models-json.ts";
import type { ProviderBody } from "../../src/protocol/rest.ts";
import { type FakeLlm, startFakeLlm } from "../fixtures/fake-llm.ts";
import { runProcess } from "../helpers/run-process.ts";

const PI_CLI = resolve(import.meta.dir, "../../node_modules/@mariozechner/pi-coding-agent/dist/cli.js");

const openai: ProviderBody = {
  name: "local",
  api: "openai-completions",
  base_url: "http://127.0.0.1:8000/v1",
  api_key: "sk-local",
  models: ["qwen3", "llama4"],
};
const anthropic: ProviderBody = {
  name: "claude",
  api: "anthropic-messages",
  base_url: "https://api.anthropic.com",
  api_key: "sk-ant",
  models: ["claude-x"],
};

describe("buildModelsJson / buildSettings", () => {
  test("maps providers to pi's models.json shape, with a generic compat block for openai-completions", () => {
    expect(buildModelsJson([openai, anthropic])).toEqual({
      providers: {
        local: {
          baseUrl: "http://127.0.0.1:8000/v1",
          api: "openai-completions",
          apiKey: "sk-local",
          compat: {
            supportsDeveloperRole: false,
            supportsReasoningEffort: false,
            supportsStore: false,
            supportsStrictMode: false,
            maxTokensField: "max_tokens",
          },
          models: [
            { id: "qwen3", name: "qwen3" },
            { id: "llama4", name: "llama4" },
          ],
        },
        claude: {
          baseUrl: "https://api.anthropic.com",
          api: "anthropic-messages",
          apiKey: "sk-ant",
          models: [{ id: "claude-x", name: "claude-x" }],
        },
      },
    });
    expect(buildModelsJson([])).toEqual({ providers: {} });
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

  test("talks to a generic OpenAI-compatible server with the system role and max_tokens", async () => {
    const providers: ProviderBody[] = [
      {
        name: "generic",
        api: "openai-completions",
        base_url: llm.url,
        api_key: "generic-key",
        models: ["fake-model"],
      },
    ];
    const agentDir = join(dir, "agent");
    mkdirSync(agentDir, { recursive: true });
    writeFileSync(join(agentDir, "models.json"), JSON.stringify(buildModelsJson(providers)));
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
        },
      },
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("generated config works");
    const [request] = llm.requests() as Record<string, unknown>[];
    expect(request?.model).toBe("fake-model");
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
