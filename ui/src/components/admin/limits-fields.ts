import type { LlmLimits, Provider } from "../../../../src/protocol/index.ts";
import { formatCount, formatTokenCount, formatUsd } from "../common/format.ts";
import { typedNumber } from "../common/typed-number.ts";

/** The number fields of LlmLimits, in the order the form shows them; the table shows them in three columns. */
export const LIMIT_FIELDS = [
  { key: "daily_budget_usd", label: "Daily budget (USD)", column: "Budget", suffix: "a day", usd: true },
  {
    key: "monthly_budget_usd",
    label: "Monthly budget (USD)",
    column: "Budget",
    suffix: "a month",
    usd: true,
  },
  { key: "daily_tokens", label: "Tokens per day", column: "Tokens", suffix: "a day", usd: false },
  { key: "monthly_tokens", label: "Tokens per month", column: "Tokens", suffix: "a month", usd: false },
  { key: "rpm", label: "Requests per minute", column: "Rate", suffix: "requests / min", usd: false },
  { key: "tpm", label: "Tokens per minute", column: "Rate", suffix: "tokens / min", usd: false },
] as const;
export const LIMIT_COLUMNS = ["Budget", "Tokens", "Rate"] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number]["key"];

export function limitTexts(limits: LlmLimits | undefined): Record<LimitField, string> {
  const texts = {} as Record<LimitField, string>;
  for (const { key } of LIMIT_FIELDS) {
    const value = limits?.[key];
    texts[key] = value === undefined ? "" : String(value);
  }
  return texts;
}

/**
 * The body of a PUT: the fields typed (empty ones are unlimited at this level) and, when the models are
 * restricted, the ids and patterns allowed. Anything that is not a number goes as typed, for the server
 * to name.
 */
export function limitsBody(texts: Record<LimitField, string>, models: readonly string[] | null): LlmLimits {
  const body: Record<string, unknown> = {};
  for (const { key } of LIMIT_FIELDS) {
    const value = typedNumber(texts[key]);
    if (value !== undefined) body[key] = value;
  }
  if (models !== null) body.models = [...models];
  // Typed as what it is meant to be; a word left in a field is refused by the server, by name.
  return body as LlmLimits;
}

/** One field's value for the table: "$5.00", "100k", or null when unlimited at this level. */
export function limitValue(limits: LlmLimits, key: LimitField): string | null {
  const value = limits[key];
  if (value === undefined) return null;
  return key.endsWith("_usd")
    ? formatUsd(value)
    : value >= 10_000
      ? formatTokenCount(value)
      : formatCount(value);
}

/** What may be picked in the models list: per provider, its wildcard and each of its models. */
export interface ModelChoiceGroup {
  provider: string;
  /** `provider/*`: every model of the provider, also those added later. */
  wildcard: string;
  models: { value: string; label: string }[];
}

export function modelChoices(providers: readonly Provider[]): ModelChoiceGroup[] {
  return providers.map((provider) => ({
    provider: provider.name,
    wildcard: `${provider.name}/*`,
    models: provider.models.map((model) => ({
      value: `${provider.name}/${model.id}`,
      label: model.name && model.name !== model.id ? `${model.id} (${model.name})` : model.id,
    })),
  }));
}

/** The allowed entries no checkbox stands for (patterns typed by hand, models of removed providers). */
export function otherPatterns(allowed: readonly string[], groups: readonly ModelChoiceGroup[]): string[] {
  const known = new Set(groups.flatMap((group) => [group.wildcard, ...group.models.map((m) => m.value)]));
  return allowed.filter((entry) => !known.has(entry));
}
