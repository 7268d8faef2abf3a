/** Oqto's per-user LLM limits as an eavs virtual key's `permissions` (EAVS.md §6). */
import { z } from "zod";
import { ApiError, zodIssueDetails } from "../../server/http-errors.ts";
import type { EavsPermissions } from "./eavs-schemas.ts";

/**
 * What Oqto limits for one user. Every field is optional: an unset one is left out of the permissions, so
 * eavs applies its own default (`keys.default_rpm_limit`, `keys.default_budget_usd`) or no limit.
 */
export const OqtoLlmLimits = z.strictObject({
  /**
   * Model id globs the key may use. An empty list would deny every model, which no one means by
   * "no restriction", so it is refused: leave the field out to allow all models.
   */
  allowed_models: z
    .array(z.string().trim().min(1).max(200))
    .min(1, "name at least one model glob, or leave allowed_models out to allow every model")
    .max(200)
    .optional(),
  /** Requests per minute (eavs stores a u32). */
  rpm: z.number().int().positive().max(4_294_967_295).optional(),
  /** Tokens per minute, input and output together. */
  tpm: z.number().int().positive().max(4_294_967_295).optional(),
  /** Spend cap in USD within `budget_window`; 0 blocks every request. */
  budget_usd: z.number().nonnegative().max(1_000_000).optional(),
  /** When the spend resets; eavs' default is monthly. */
  budget_window: z.enum(["daily", "monthly", "total"]).optional(),
});
export type OqtoLlmLimits = z.infer<typeof OqtoLlmLimits>;

/** Maps Oqto's limits to eavs `permissions`; invalid limits are a 400 with the zod issues in `details`. */
export function toEavsPermissions(limits: OqtoLlmLimits): EavsPermissions {
  const parsed = OqtoLlmLimits.safeParse(limits);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(limits)");
    throw new ApiError(
      "BAD_REQUEST",
      `invalid LLM limits: ${fields.join(", ")}`,
      zodIssueDetails(parsed.error),
    );
  }
  const { allowed_models, rpm, tpm, budget_usd, budget_window } = parsed.data;
  return {
    ...(allowed_models !== undefined && { allowed_models: [...new Set(allowed_models)] }),
    ...(rpm !== undefined && { rpm_limit: rpm }),
    ...(tpm !== undefined && { tpm_limit: tpm }),
    ...(budget_usd !== undefined && { max_budget_usd: budget_usd }),
    ...(budget_window !== undefined && { budget_window }),
  };
}
