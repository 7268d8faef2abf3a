import { z } from "zod";

/** `GET /api/admin/eavs/status`: what Oqto knows of eavs without asking it (so it answers when eavs is down). */
export const EavsStatus = z.object({
  url: z.string(),
  providers: z.object({
    /** Providers the gateway offers (those eavs lists that pi can reach through Oqto). */
    count: z.number().int(),
    /** When the list was last read from eavs; null: never since serve started. */
    refreshed_at: z.number().nullable(),
    /** Why the last read failed, when it did. */
    error: z.string().nullable(),
    /** Providers eavs lists that the gateway does not offer, and why. */
    skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  }),
  /** Every user: their key (made lazily when absent) and the last problem with it. */
  keys: z.array(
    z.object({
      user_id: z.string(),
      username: z.string(),
      is_active: z.boolean(),
      key_id: z.string().nullable(),
      created_at: z.number().nullable(),
      problem: z.object({ message: z.string(), at: z.number() }).nullable(),
    }),
  ),
  /** Keys still live in eavs that Oqto no longer uses (retried at every sync and account change). */
  pending_revocations: z.array(
    z.object({
      key_id: z.string(),
      user_id: z.string(),
      reason: z.string(),
      queued_at: z.number(),
      last_error: z.string().nullable(),
    }),
  ),
});
export type EavsStatus = z.infer<typeof EavsStatus>;

/** `POST /api/admin/providers/sync`: the providers re-read (eavs mode) and models.json pushed to every runner. */
export const ProviderSyncResult = z.object({
  source: z.enum(["eavs", "embedded"]),
  providers: z.number().int(),
  models: z.number().int(),
});
export type ProviderSyncResult = z.infer<typeof ProviderSyncResult>;
