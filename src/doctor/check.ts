import { z } from "zod";

export const DoctorCheckSchema = z.strictObject({
  check: z.string().min(1),
  status: z.enum(["ok", "warn", "fail"]),
  detail: z.string(),
  /** What to do about it; present for warn and fail. */
  fix: z.string().optional(),
});
export type DoctorCheck = z.infer<typeof DoctorCheckSchema>;

export const ok = (check: string, detail: string): DoctorCheck => ({ check, status: "ok", detail });
export const warn = (check: string, detail: string, fix: string): DoctorCheck => ({
  check,
  status: "warn",
  detail,
  fix,
});
export const fail = (check: string, detail: string, fix: string): DoctorCheck => ({
  check,
  status: "fail",
  detail,
  fix,
});

/** A check that depends on one that failed is reported, not silently dropped. */
export const notChecked = (check: string, because: string, fix: string): DoctorCheck =>
  warn(check, `not checked: ${because}`, fix);

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** `0o2750` → "2750", `0o700` → "0700": how chmod takes it. */
export const octalMode = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0");
