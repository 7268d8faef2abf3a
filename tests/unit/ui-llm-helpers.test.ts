/** The pure helpers behind the UI's provider, limits and usage pages. */
import { describe, expect, test } from "bun:test";
import { ModelSpec } from "../../src/protocol/index.ts";
import {
  limitsBody,
  limitTexts,
  modelChoices,
  otherPatterns,
} from "../../ui/src/components/admin/limits-fields.ts";
import { mergeProbed, rowFromSpec, specFromRow } from "../../ui/src/components/admin/model-rows.ts";
import { formatTokenCount, formatUsd } from "../../ui/src/components/common/format.ts";
import { dailySeries, daysBetween, monthStart } from "../../ui/src/components/usage/usage-days.ts";

describe("model rows", () => {
  test("a spec goes through a row unchanged", () => {
    const spec = {
      id: "claude-x",
      name: "Claude X",
      context_window: 200_000,
      max_tokens: 8192,
      reasoning: true,
      input: ["text", "image"] as ("text" | "image")[],
      price: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
    };
    expect(specFromRow(rowFromSpec(spec, true))).toEqual(spec);
    // Cache prices of 0 are the server's default: left empty, sent as nothing.
    const plain = { id: "m", price: { input: 1, output: 2, cache_read: 0, cache_write: 0 } };
    expect(specFromRow(rowFromSpec(plain, true))).toEqual({ id: "m", price: { input: 1, output: 2 } });
  });

  test("a half-typed price or a word is sent as typed, so that the schema names the field", () => {
    const row = rowFromSpec({ id: "m" }, true);
    row.values.price_input = "2";
    row.values.context_window = "lots";
    const sent = specFromRow(row);
    expect(sent).toEqual({ id: "m", context_window: "lots", price: { input: 2 } });
    const issues = ModelSpec.safeParse(sent).error?.issues.map((issue) => issue.path.join("."));
    expect(issues?.sort()).toEqual(["context_window", "price.output"]);
  });

  test("fetched models join the table unoffered; a known one keeps what was typed and fills the gaps", () => {
    const typed = rowFromSpec(
      { id: "a", price: { input: 5, output: 6, cache_read: 0, cache_write: 0 } },
      true,
    );
    const merged = mergeProbed(
      [typed],
      [
        {
          id: "a",
          name: "A",
          context_window: 1000,
          price: { input: 1, output: 1, cache_read: 0, cache_write: 0 },
        },
        { id: "b", context_window: 2000 },
      ],
    );
    expect(merged.map((row) => [row.id, row.offered])).toEqual([
      ["a", true],
      ["b", false],
    ]);
    expect(merged[0]?.key).toBe(typed.key);
    expect(specFromRow(merged[0] ?? typed)).toEqual({
      id: "a",
      name: "A",
      context_window: 1000,
      price: { input: 5, output: 6 },
    });
  });
});

describe("limits fields", () => {
  const providers = [
    {
      name: "fake",
      api: "openai-completions" as const,
      base_url: "http://x/v1",
      models: [{ id: "m1" }, { id: "m2", name: "Model 2" }],
      has_api_key: true,
      created_at: 0,
      updated_at: 0,
    },
  ];

  test("empty fields are left out, numbers parsed, models only when restricted", () => {
    const texts = { ...limitTexts(undefined), daily_budget_usd: "1.5", rpm: " 60 " };
    expect(limitsBody(texts, null)).toEqual({ daily_budget_usd: 1.5, rpm: 60 });
    expect(limitsBody(texts, [])).toEqual({ daily_budget_usd: 1.5, rpm: 60, models: [] });
    expect(limitTexts({ tpm: 1000, models: ["fake/*"] }).tpm).toBe("1000");
  });

  test("the model choices are each provider's wildcard and models; other entries are kept as typed", () => {
    const groups = modelChoices(providers);
    expect(groups).toEqual([
      {
        provider: "fake",
        wildcard: "fake/*",
        models: [
          { value: "fake/m1", label: "m1" },
          { value: "fake/m2", label: "m2 (Model 2)" },
        ],
      },
    ]);
    expect(otherPatterns(["fake/m1", "openai/gpt-4*", "fake/*"], groups)).toEqual(["openai/gpt-4*"]);
  });
});

describe("usage days and numbers", () => {
  test("a day report becomes one column per day of its range, days without usage at zero", () => {
    const row = (key: string, cost: number) => ({
      key,
      requests: 1,
      input_tokens: 100,
      output_tokens: 20,
      cache_read_tokens: 5,
      cache_write_tokens: 0,
      cost_usd: cost,
    });
    const series = dailySeries({
      group: "day",
      from: "2026-02-27",
      to: "2026-03-02",
      rows: [row("2026-02-28", 0.5), row("2026-03-02", 0.25)],
      total: { ...row("", 0.75), requests: 2 },
    });
    expect(series.days).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(series.cost).toEqual([0, 0.5, 0, 0.25]);
    expect(series.tokens).toEqual([0, 125, 0, 125]);
    expect(daysBetween("2026-01-02", "2026-01-01")).toEqual([]);
    expect(monthStart("2026-12-07")).toBe("2026-12-01");
  });

  test("dollars keep the digits small amounts need; token counts are short", () => {
    expect([0, 0.002, 0.00042, 0.5, 12.345, 1234.5].map(formatUsd)).toEqual([
      "$0",
      "$0.002",
      "$0.00042",
      "$0.50",
      "$12.35",
      "$1,234.50",
    ]);
    expect([999, 1000, 128_000, 1_048_576, 2_500_000].map(formatTokenCount)).toEqual([
      "999",
      "1k",
      "128k",
      "1M",
      "2.5M",
    ]);
  });
});
