/**
 * zod schemas of what eavs answers (EAVS.md §3-§7). Objects are loose: eavs adds fields across versions
 * (`owner`, `oauth_user`, `valid_after`, …) and Oqto ignores the ones it does not read, but every field that
 * EAVS.md documents and Oqto relies on is checked.
 */
import { z } from "zod";

/** The admin API's error body (EAVS.md §5). */
export const AdminError = z.looseObject({ error: z.string(), code: z.string().min(1) });
export type AdminError = z.infer<typeof AdminError>;

export const BudgetWindow = z.enum(["total", "daily", "weekly", "monthly"]);
export type BudgetWindow = z.infer<typeof BudgetWindow>;

const Count = z.number().int().nonnegative();
const Usd = z.number().nonnegative();
/** eavs stores every limit as a u32. */
const Limit = Count.max(4_294_967_295);

/** A virtual key's `permissions` (EAVS.md §6). Unset fields are absent: eavs fills rpm and budget defaults. */
export const EavsPermissions = z.looseObject({
  allowed_models: z.array(z.string().min(1)).optional(),
  blocked_models: z.array(z.string().min(1)).optional(),
  allowed_providers: z.array(z.string().min(1)).optional(),
  rpm_limit: Limit.optional(),
  tpm_limit: Limit.optional(),
  rpd_limit: Limit.optional(),
  max_budget_usd: Usd.optional(),
  budget_window: BudgetWindow.optional(),
});
export type EavsPermissions = z.infer<typeof EavsPermissions>;

/** RFC 3339 time as eavs writes it (chrono). */
const Timestamp = z.string().min(1);

/** `POST /admin/keys` answer: `key` is the secret and comes only this once. */
export const CreatedKey = z.looseObject({
  key: z.string().min(1),
  key_id: z.string().min(1),
  key_hash: z.string().min(1),
  name: z.string().nullable(),
  created_at: Timestamp,
  expires_at: Timestamp.nullish(),
  permissions: EavsPermissions,
});
export type CreatedKey = z.infer<typeof CreatedKey>;

export const KeyUsage = z.looseObject({
  total_requests: Count,
  total_input_tokens: Count,
  total_output_tokens: Count,
  total_spend_usd: Usd,
  window_spend_usd: Usd,
  window_start: Timestamp.nullish(),
  last_request_at: Timestamp.nullish(),
});
export type KeyUsage = z.infer<typeof KeyUsage>;

/** `GET /admin/keys/{k}` and each element of `GET /admin/keys`. */
export const KeyInfo = z.looseObject({
  key_id: z.string().min(1),
  key_hash: z.string().min(1),
  name: z.string().nullable(),
  created_at: Timestamp,
  expires_at: Timestamp.nullish(),
  disabled: z.boolean(),
  permissions: EavsPermissions,
  usage: KeyUsage,
});
export type KeyInfo = z.infer<typeof KeyInfo>;

/**
 * One row of `GET /admin/keys/{k}/usage` (EAVS.md §3 says only "last ≤100 usage rows"; the fields are those
 * eavs' usage record serializes, the cache counters optional).
 */
export const UsageRow = z.looseObject({
  timestamp: Timestamp,
  model: z.string(),
  provider: z.string(),
  input_tokens: Count,
  output_tokens: Count,
  cached_tokens: Count.optional(),
  cache_write_tokens: Count.optional(),
  cost_usd: Usd,
});
export type UsageRow = z.infer<typeof UsageRow>;

/** One element of `GET /admin/quotas`: the provider's own rate-limit headers last seen (reporting only). */
export const QuotaSnapshot = z.looseObject({
  provider: z.string().min(1),
  account: z.string(),
  requests_limit: Count.nullish(),
  requests_remaining: Count.nullish(),
  requests_reset_secs: z.number().nonnegative().nullish(),
  tokens_limit: Count.nullish(),
  tokens_remaining: Count.nullish(),
  tokens_reset_secs: z.number().nonnegative().nullish(),
  age_secs: z.number().nonnegative().optional(),
});
export type QuotaSnapshot = z.infer<typeof QuotaSnapshot>;

/** The pi APIs eavs maps provider types to (EAVS.md §7); any other type has `pi_api: null`. */
export const EavsPiApi = z.enum([
  "openai-responses",
  "openai-codex-responses",
  "anthropic-messages",
  "google-generative-ai",
  "openai-completions",
]);
export type EavsPiApi = z.infer<typeof EavsPiApi>;

/** USD per million tokens; eavs has no cache-write price. */
export const ModelCost = z.looseObject({
  input: Usd,
  output: Usd,
  cache_read: Usd,
});

export const ProviderModel = z.looseObject({
  id: z.string().min(1),
  /** eavs sends "" for a shortlist entry without a name: the id stands in (EAVS.md §7 "`name` or `id`"). */
  name: z.string().nullish(),
  reasoning: z.boolean(),
  /** Modalities; models.dev knows more than pi's "text" and "image". */
  input: z.array(z.string()).nullish(),
  context_window: z.number().int().positive(),
  max_tokens: z.number().int().positive(),
  cost: ModelCost,
  compat: z.record(z.string(), z.unknown()).nullish(),
});
export type ProviderModel = z.infer<typeof ProviderModel>;

/** One element of `GET /providers/detail` (EAVS.md §7). */
export const ProviderDetail = z.looseObject({
  name: z.string().min(1),
  type: z.string().min(1),
  pi_api: EavsPiApi.nullable(),
  oauth: z.boolean(),
  has_api_key: z.boolean(),
  /** Header name → "EAVS_API_KEY" placeholder; eavs leaves it out when the provider has none. */
  headers: z.record(z.string(), z.string()).nullish(),
  api_version: z.string().nullish(),
  compat: z.record(z.string(), z.unknown()).nullish(),
  models: z.array(ProviderModel),
});
export type ProviderDetail = z.infer<typeof ProviderDetail>;
