import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { buildEavsModelsJson } from "../../../src/llm/eavs/eavs-models.ts";
import { ProviderDetail } from "../../../src/llm/eavs/eavs-schemas.ts";
import { AZURE, CODEX, DEFAULT_ALIAS, DETAILS, OLLAMA, OPENROUTER } from "./eavs-details.ts";

const details = (raw: unknown[]) => z.array(ProviderDetail).parse(raw);
const BASE = "http://127.0.0.1:41800";

describe("buildEavsModelsJson (EAVS.md §7 steps 2-3)", () => {
  test("the documented example entry", () => {
    const one = {
      ...OPENROUTER,
      models: [OPENROUTER.models[0]],
    };
    expect(buildEavsModelsJson(details([one]), { baseUrl: BASE, virtualKey: "<virtual key>" })).toEqual({
      providers: {
        "eavs-openrouter": {
          baseUrl: "http://127.0.0.1:41800/openrouter/v1",
          api: "openai-completions",
          apiKey: "<virtual key>",
          models: [
            {
              id: "some/model",
              name: "Some Model",
              reasoning: true,
              input: ["text"],
              contextWindow: 200000,
              maxTokens: 16384,
              cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3 },
            },
          ],
        },
      },
    });
  });

  test("skips providers pi cannot speak to and the alias provider `default`", () => {
    const json = buildEavsModelsJson(details([OLLAMA, DEFAULT_ALIAS, CODEX]), {
      baseUrl: BASE,
      virtualKey: "k",
    });
    expect(Object.keys(json.providers)).toEqual(["eavs-codex"]);
    expect(buildEavsModelsJson([], { baseUrl: BASE, virtualKey: "k" })).toEqual({ providers: {} });
  });

  test("a user without a virtual key gets apiKey 'not-needed', in the header placeholders too", () => {
    for (const virtualKey of [undefined, null, ""]) {
      const json = buildEavsModelsJson(details([AZURE]), { baseUrl: BASE, virtualKey });
      expect(json.providers["eavs-azure"]?.apiKey).toBe("not-needed");
      expect(json.providers["eavs-azure"]?.headers).toEqual({
        "api-key": "not-needed",
        "x-team": "research",
      });
    }
  });

  test("headers only when the provider lists some", () => {
    const json = buildEavsModelsJson(details([{ ...AZURE, headers: {} }, OPENROUTER]), {
      baseUrl: BASE,
      virtualKey: "k",
    });
    expect(json.providers["eavs-azure"]).not.toHaveProperty("headers");
    expect(json.providers["eavs-openrouter"]).not.toHaveProperty("headers");
  });

  test("base URL: a trailing slash is dropped, the provider name is a path segment", () => {
    const json = buildEavsModelsJson(details([{ ...CODEX, name: "my codex" }]), {
      baseUrl: "http://eavs.internal:3000/",
      virtualKey: "k",
    });
    expect(json.providers["eavs-my codex"]?.baseUrl).toBe("http://eavs.internal:3000/my%20codex/v1");
  });

  test("model fields: name falls back to the id, input to text, unknown modalities are dropped", () => {
    const model = {
      id: "m",
      reasoning: false,
      context_window: 1000,
      max_tokens: 100,
      cost: { input: 1, output: 2, cache_read: 0.5 },
    };
    const json = buildEavsModelsJson(
      details([
        {
          ...OPENROUTER,
          models: [
            { ...model, id: "no-name" },
            { ...model, id: "null-name", name: null, input: null },
            { ...model, id: "audio-only", input: ["audio"] },
            { ...model, id: "image", input: ["image", "text", "image"] },
            { ...model, id: "no-name" },
          ],
        },
      ]),
      { baseUrl: BASE, virtualKey: "k" },
    );
    const models = json.providers["eavs-openrouter"]?.models ?? [];
    expect(models.map((m) => [m.id, m.name, m.input])).toEqual([
      ["no-name", "no-name", ["text"]],
      ["null-name", "null-name", ["text"]],
      ["audio-only", "audio-only", ["text"]],
      ["image", "image", ["image", "text"]],
    ]);
    expect(models[0]?.cost).toEqual({ input: 1, output: 2, cacheRead: 0.5, cacheWrite: 1 });
  });

  test("the first provider of a name wins (eavs lists config providers first)", () => {
    const json = buildEavsModelsJson(details([CODEX, { ...OPENROUTER, name: "codex" }]), {
      baseUrl: BASE,
      virtualKey: "k",
    });
    expect(json.providers["eavs-codex"]?.api).toBe("openai-codex-responses");
  });

  test("the whole fixture set parses (extra eavs fields are accepted)", () => {
    expect(details(DETAILS)).toHaveLength(DETAILS.length);
  });
});
