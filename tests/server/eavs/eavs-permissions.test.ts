import { describe, expect, test } from "bun:test";
import { type OqtoLlmLimits, toEavsPermissions } from "../../../src/llm/eavs/eavs-permissions.ts";
import { EavsPermissions } from "../../../src/llm/eavs/eavs-schemas.ts";
import { ApiError } from "../../../src/server/http-errors.ts";

function refusal(limits: unknown): ApiError {
  try {
    toEavsPermissions(limits as OqtoLlmLimits);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error(`accepted ${JSON.stringify(limits)}`);
}

describe("toEavsPermissions", () => {
  test("maps every Oqto limit to its eavs permission field", () => {
    const permissions = toEavsPermissions({
      allowed_models: ["claude-*", "gpt-4o"],
      rpm: 60,
      tpm: 100_000,
      budget_usd: 12.5,
      budget_window: "daily",
    });
    expect(permissions).toEqual({
      allowed_models: ["claude-*", "gpt-4o"],
      rpm_limit: 60,
      tpm_limit: 100_000,
      max_budget_usd: 12.5,
      budget_window: "daily",
    });
    expect(EavsPermissions.parse(permissions)).toEqual(permissions);
  });

  test("unset limits stay out, so eavs applies its defaults", () => {
    expect(toEavsPermissions({})).toEqual({});
    expect(toEavsPermissions({ budget_usd: 3 })).toEqual({ max_budget_usd: 3 });
    expect(toEavsPermissions({ rpm: 1 })).toEqual({ rpm_limit: 1 });
    expect(toEavsPermissions({ budget_window: "total" })).toEqual({ budget_window: "total" });
  });

  test("a zero budget is kept (it blocks the user); duplicate model globs are sent once", () => {
    expect(toEavsPermissions({ budget_usd: 0 })).toEqual({ max_budget_usd: 0 });
    expect(toEavsPermissions({ allowed_models: ["a", " a ", "b"] })).toEqual({ allowed_models: ["a", "b"] });
  });

  test("invalid limits are a 400 naming the field", () => {
    const cases: [unknown, string][] = [
      [{ allowed_models: [] }, "allowed_models"],
      [{ allowed_models: [""] }, "allowed_models.0"],
      [{ rpm: 0 }, "rpm"],
      [{ rpm: 1.5 }, "rpm"],
      [{ tpm: -1 }, "tpm"],
      [{ rpm: 2 ** 32 }, "rpm"],
      [{ budget_usd: -0.01 }, "budget_usd"],
      [{ budget_usd: Number.NaN }, "budget_usd"],
      [{ budget_window: "weekly" }, "budget_window"],
      [{ rpm_limit: 5 }, "(limits)"],
    ];
    for (const [limits, field] of cases) {
      const error = refusal(limits);
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toBe(`invalid LLM limits: ${field}`);
      expect(error.details?.issues).toBeArray();
    }
  });
});
