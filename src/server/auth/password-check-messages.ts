import { z } from "zod";

/** What password-strength.ts sends its worker, and the verdict it gets back (validated both ways). */
/** The worker's first message: it has loaded and listens. */
export const PASSWORD_WORKER_READY = "ready";

export const PasswordCheckRequest = z.strictObject({
  password: z.string(),
  context: z.array(z.string()),
});

export const PasswordCheckVerdict = z.strictObject({
  score: z.number().int().min(0).max(4),
  warning: z.string(),
  suggestions: z.array(z.string()),
});
export type PasswordCheckVerdict = z.infer<typeof PasswordCheckVerdict>;
