import { z } from "zod";

/** The LLM wire formats pi speaks (its models.json `api`), and so the ones the gateway relays. */
export const ProviderApi = z.enum([
  "openai-completions",
  "anthropic-messages",
  "openai-responses",
  "google-generative-ai",
]);
export type ProviderApi = z.infer<typeof ProviderApi>;

export const ProviderName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "provider names are 1-64 characters: a-z, 0-9, '_' or '-'");

const TokenCount = z.number().int().positive().max(100_000_000);
const UsdPerMillion = z.number().nonnegative().max(100_000);

/** What a model costs, in USD per million tokens (the unit providers publish prices in). */
export const ModelPrice = z.strictObject({
  input: UsdPerMillion,
  output: UsdPerMillion,
  cache_read: UsdPerMillion.default(0),
  cache_write: UsdPerMillion.default(0),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

export const ModelId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s/][^\s]*$/, "model ids have no spaces and do not start with '/'");

/** One model of a provider, as pi's models.json and the model picker need it. */
export const ModelSpec = z.strictObject({
  id: ModelId,
  name: z.string().min(1).max(200).optional(),
  context_window: TokenCount.optional(),
  max_tokens: TokenCount.optional(),
  reasoning: z.boolean().optional(),
  input: z
    .array(z.enum(["text", "image"]))
    .min(1)
    .optional(),
  price: ModelPrice.optional(),
});
export type ModelSpec = z.infer<typeof ModelSpec>;

/** A key goes into an HTTP header: printable ASCII only, so a paste with a stray control character is a 400. */
const ApiKeyText = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, "keys are printable ASCII without spaces");

/** A bare id is shorthand for a model with nothing else known about it. */
const ModelInput = z.union([ModelId.transform((id): ModelSpec => ({ id })), ModelSpec]);

export const ProviderBody = z.strictObject({
  name: ProviderName,
  api: ProviderApi,
  base_url: z.url({ protocol: /^https?$/ }),
  /**
   * Write-only. Omitted on an update: the stored key stays. Local servers (Ollama, vLLM, llama.cpp) need none.
   * pi would run a key starting with "!" as a shell command; the gateway never hands keys to pi, but such
   * a paste is a mistake either way.
   */
  api_key: ApiKeyText.refine(
    (key) => !key.startsWith("!"),
    "must not start with '!' (pi would run it as a shell command)",
  ).optional(),
  models: z
    .array(ModelInput)
    .min(1)
    .max(500)
    .refine((models) => new Set(models.map((m) => m.id)).size === models.length, "model ids must be unique"),
});
export type ProviderBody = z.infer<typeof ProviderBody>;
export type ProviderBodyInput = z.input<typeof ProviderBody>;

/** A provider as returned by the API: the key is never returned, only whether one is stored. */
export const Provider = z.object({
  name: z.string(),
  api: ProviderApi,
  base_url: z.string(),
  models: z.array(ModelSpec),
  has_api_key: z.boolean(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type Provider = z.infer<typeof Provider>;

/**
 * Budgets and limits of a user or a role. Each field left out is unlimited at this level: a user's own
 * value wins over their role's. `models` lists the `provider/model` ids (a trailing `*` matches a prefix)
 * that may be used; left out, every configured model may.
 */
export const LlmLimits = z.strictObject({
  daily_budget_usd: z.number().nonnegative().max(1_000_000).optional(),
  monthly_budget_usd: z.number().nonnegative().max(10_000_000).optional(),
  daily_tokens: z.number().int().nonnegative().max(1e12).optional(),
  monthly_tokens: z.number().int().nonnegative().max(1e13).optional(),
  rpm: z.number().int().nonnegative().max(1_000_000).optional(),
  tpm: z.number().int().nonnegative().max(1e10).optional(),
  models: z.array(z.string().min(1).max(300)).max(1000).optional(),
});
export type LlmLimits = z.infer<typeof LlmLimits>;

export const LimitScope = z.enum(["user", "role"]);
export type LimitScope = z.infer<typeof LimitScope>;

export const LimitsEntry = z.object({
  scope: LimitScope,
  subject: z.string(),
  limits: LlmLimits,
  updated_at: z.number(),
});
export type LimitsEntry = z.infer<typeof LimitsEntry>;

export const UsageGroup = z.enum(["user", "model", "day", "session"]);
export type UsageGroup = z.infer<typeof UsageGroup>;

/** `YYYY-MM-DD`, in UTC: usage is kept per UTC day, so budgets reset at 00:00 UTC. */
export const UsageDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "dates are YYYY-MM-DD");

export const UsageTotals = z.object({
  requests: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_tokens: z.number(),
  cache_write_tokens: z.number(),
  cost_usd: z.number(),
});
export type UsageTotals = z.infer<typeof UsageTotals>;

/** One row of a usage report: the group's key (user, `provider/model`, day or session) and its sums. */
export const UsageRow = UsageTotals.extend({ key: z.string(), label: z.string().optional() });
export type UsageRow = z.infer<typeof UsageRow>;

export const UsageReport = z.object({
  group: UsageGroup,
  from: UsageDay,
  to: UsageDay,
  rows: z.array(UsageRow),
  total: UsageTotals,
});
export type UsageReport = z.infer<typeof UsageReport>;

/** `GET /api/usage` and `GET /api/admin/usage`: the days are inclusive, the default the last 30. */
export const UsageQueryParams = z.strictObject({
  group: UsageGroup.default("day"),
  from: UsageDay.optional(),
  to: UsageDay.optional(),
});

/** `GET /api/usage/limits`: the caller's effective limits and what they used in the current periods. */
export const MyLimits = z.object({
  limits: LlmLimits,
  today: UsageTotals,
  this_month: UsageTotals,
});
export type MyLimits = z.infer<typeof MyLimits>;

/**
 * The environment variable pi's models.json names as every provider's key: pi resolves it in each
 * process, where the runner has put that process's own LLM token. models.json itself holds no secret.
 */
export const LLM_TOKEN_ENV = "OQTO_LLM_TOKEN";

/**
 * `POST /api/admin/providers/probe`: tries a provider's endpoint with its key and lists the models it
 * offers. Without `api_key`, the stored key of the provider named `name` is used (an edit form that
 * leaves the key alone).
 */
export const ProviderProbeRequest = z.strictObject({
  name: ProviderName.optional(),
  api: ProviderApi,
  base_url: z.url({ protocol: /^https?$/ }),
  api_key: ApiKeyText.optional(),
});
export type ProviderProbeRequest = z.infer<typeof ProviderProbeRequest>;

export const ProviderProbeResult = z.object({
  ok: z.boolean(),
  /** The provider's HTTP status, when it answered. */
  status: z.number().int().optional(),
  latency_ms: z.number(),
  /** What happened, in plain words ("12 models", "401 from the provider: invalid key"). */
  message: z.string(),
  models: z.array(ModelSpec),
});
export type ProviderProbeResult = z.infer<typeof ProviderProbeResult>;
