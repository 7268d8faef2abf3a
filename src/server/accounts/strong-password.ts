import { passwordWeakness } from "../auth/password-strength.ts";
import { ApiError } from "../http-errors.ts";

/** 400 with the reason when `password` is too weak (the same check the setup page and the CLI make). */
export async function requireStrongPassword(
  password: string,
  context: ReadonlyArray<string | undefined>,
  field = "password",
): Promise<void> {
  const weakness = await passwordWeakness(password, context);
  if (weakness) {
    throw new ApiError("BAD_REQUEST", weakness, {
      issues: [{ path: field, code: "weak_password", message: weakness }],
    });
  }
}
