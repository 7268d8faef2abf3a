import { z } from "zod";
import { WorkspaceName } from "./runner.ts";

/** REST error body (PROTOCOL.md §4.1). */
export const REST_ERROR_CODES = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;
export type RestErrorCode = keyof typeof REST_ERROR_CODES;

export const RestError = z.object({
  error: z.string(),
  code: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type RestError = z.infer<typeof RestError>;

export const Username = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{2,26}$/,
    "usernames are 3-27 characters: a lowercase letter, then a-z, 0-9, '_' or '-'",
  );
export const Password = z.string().min(8, "at least 8 characters").max(256, "at most 256 characters");
export const Role = z.enum(["user", "admin"]);
export type Role = z.infer<typeof Role>;

export const User = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().optional(),
  display_name: z.string().optional(),
  role: Role,
  is_active: z.boolean(),
  created_at: z.number(),
  last_login_at: z.number().optional(),
  linux_user: z.string().optional(),
});
export type User = z.infer<typeof User>;

export const SetupRequest = z.strictObject({
  setup_token: z.string().min(1),
  username: Username,
  password: Password,
  email: z.email().optional(),
  display_name: z.string().max(200).optional(),
});
export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});
export const AuthResponse = z.object({ token: z.string(), user: User });
export type AuthResponse = z.infer<typeof AuthResponse>;

export const ProviderApi = z.enum([
  "openai-completions",
  "anthropic-messages",
  "openai-responses",
  "google-generative-ai",
]);
export const ProviderName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "provider names are 1-64 characters: a-z, 0-9, '_' or '-'");
export const ProviderBody = z.strictObject({
  name: ProviderName,
  api: ProviderApi,
  base_url: z.url({ protocol: /^https?$/ }),
  api_key: z.string().min(1).max(4096),
  models: z.array(z.string().min(1).max(200)).min(1).max(200),
});
export type ProviderBody = z.infer<typeof ProviderBody>;
/** A provider as returned by the API: the key is never returned. */
export const Provider = ProviderBody.omit({ api_key: true }).extend({
  has_api_key: z.boolean(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type Provider = z.infer<typeof Provider>;

export const CreateWorkspaceRequest = z.strictObject({
  name: WorkspaceName,
  display_name: z.string().max(200).optional(),
});
