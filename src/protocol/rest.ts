import { z } from "zod";
import { ThinkingLevel } from "./common.ts";
import { SearchMode } from "./history.ts";
import { PromptImages } from "./images.ts";
import { WorkspaceName } from "./runner.ts";

/** REST error body (PROTOCOL.md §4.1). */
export const REST_ERROR_CODES = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
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
    /^[a-z][a-z0-9_-]{0,26}$/,
    "usernames are 1-27 characters: a lowercase letter, then a-z, 0-9, '_' or '-' (so that oqto_<name> is a Linux user name)",
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
/** `GET /api/health` (public): liveness and the server's mode. */
export const HealthResponse = z.object({
  status: z.literal("ok"),
  version: z.string(),
  multi_user: z.boolean(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
export type AuthResponse = z.infer<typeof AuthResponse>;

export const CreateWorkspaceRequest = z.strictObject({
  name: WorkspaceName,
  display_name: z.string().max(200).optional(),
});

// Accounts (issue 12): the caller's own profile, password and API keys; the admin's user management and audit log.

const DisplayName = z.string().trim().min(1).max(200);
export const UpdateMeRequest = z
  .strictObject({ display_name: DisplayName.nullable().optional(), email: z.email().nullable().optional() })
  .refine((body) => body.display_name !== undefined || body.email !== undefined, "nothing to change");
export const ChangePasswordRequest = z.strictObject({
  current_password: z.string().min(1).max(256),
  new_password: Password,
});

export const CreateApiKeyRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Lifetime; without it the key lasts until deleted. */
  expires_in_s: z
    .number()
    .int()
    .positive()
    .max(5 * 365 * 86400)
    .optional(),
});
export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  /** The key's first characters, to tell keys apart; the key itself is shown only once. */
  prefix: z.string(),
  created_at: z.number(),
  expires_at: z.number().optional(),
  last_used_at: z.number().optional(),
});
export type ApiKey = z.infer<typeof ApiKey>;
export const CreatedApiKey = ApiKey.extend({ key: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const AdminCreateUserRequest = z.strictObject({
  username: Username,
  password: Password,
  role: Role.default("user"),
  email: z.email().optional(),
  display_name: DisplayName.optional(),
});
export const AdminUpdateUserRequest = z
  .strictObject({ is_active: z.boolean().optional(), role: Role.optional() })
  .refine((body) => body.is_active !== undefined || body.role !== undefined, "nothing to change");
export const ResetPasswordRequest = z.strictObject({ password: Password });
/** `DELETE /api/admin/users/{id}?remove_data=1`: also delete the user's Linux account's home (multi-user mode). */
export const DeleteUserQuery = z.strictObject({ remove_data: z.enum(["0", "1"]).default("0") });

export const AuditEntry = z.object({
  id: z.number(),
  at: z.number(),
  actor_id: z.string().optional(),
  actor_name: z.string().optional(),
  action: z.string(),
  target: z.string().optional(),
  ip: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditQueryParams = z.strictObject({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  action: z
    .string()
    .regex(/^[a-z_.]{1,64}$/)
    .optional(),
});
export const AuditPage = z.object({ entries: z.array(AuditEntry), next_before: z.number().optional() });
export type AuditPage = z.infer<typeof AuditPage>;

export const CreateInviteRequest = z.strictObject({
  max_uses: z.number().int().min(1).max(10_000).default(1),
  /** Lifetime; without it the code lasts until used up or revoked. */
  expires_in_s: z
    .number()
    .int()
    .positive()
    .max(365 * 86400)
    .optional(),
  note: z.string().trim().min(1).max(200).optional(),
  /** How many codes to make at once, each with these settings. */
  count: z.number().int().min(1).max(100).default(1),
});
export const InviteState = z.enum(["active", "used_up", "expired", "revoked"]);
export const InviteCode = z.object({
  id: z.string(),
  /** The code's first characters; the code itself is shown only once. */
  prefix: z.string(),
  max_uses: z.number(),
  uses: z.number(),
  remaining: z.number(),
  state: InviteState,
  note: z.string().optional(),
  created_by: z.string().optional(),
  created_at: z.number(),
  expires_at: z.number().optional(),
  revoked_at: z.number().optional(),
});
export type InviteCode = z.infer<typeof InviteCode>;
export const CreatedInvites = z.object({ invites: z.array(InviteCode.extend({ code: z.string() })) });
export type CreatedInvites = z.infer<typeof CreatedInvites>;

export const RegisterRequest = z.strictObject({
  username: Username,
  password: Password,
  invite_code: z.string().trim().min(1).max(64),
  display_name: DisplayName.optional(),
});

/** A running session of any user, for the admin (`GET /api/admin/sessions`). */
export const AdminRunningSession = z.object({
  session_id: z.string(),
  user_id: z.string().optional(),
  username: z.string().optional(),
  state: z.string(),
  phase: z.string().optional(),
  workspace_path: z.string(),
  pid: z.number().optional(),
});
export type AdminRunningSession = z.infer<typeof AdminRunningSession>;

/** A session in the admission view (`GET /api/admin/admission`). */
export const AdmissionSession = z.object({
  session_id: z.string(),
  user_id: z.string().optional(),
  username: z.string().optional(),
  workspace_path: z.string().optional(),
});
export type AdmissionSession = z.infer<typeof AdmissionSession>;

/** The admission state for the admin: the limit, who generates, who waits in which order. */
export const AdminAdmission = z.object({
  /** Concurrently generating sessions allowed (0 = unlimited). */
  limit: z.number().int().nonnegative(),
  generating: z.array(AdmissionSession.extend({ since: z.number() })),
  queue: z.array(AdmissionSession.extend({ position: z.number().int().positive(), queued_at: z.number() })),
});
export type AdminAdmission = z.infer<typeof AdminAdmission>;

// Sessions driven over REST (issue 16): create, send messages, abort, answer input requests, follow events.

const NonBlankMessage = z.string().refine((s) => s.trim().length > 0, "must not be blank");

/** `POST /api/sessions`: a new session in one of the caller's workspaces. */
export const CreateSessionRequest = z.strictObject({
  workspace: WorkspaceName,
  /** `provider/model_id`, or a model id of the default provider. */
  model: z.string().trim().min(1).max(256).optional(),
  thinking: ThinkingLevel.optional(),
});
/** The created session (201): `seq` is where its stream stands, for `GET …/events?after=`. */
export const CreatedSession = z.object({
  session_id: z.string(),
  workspace: z.string(),
  workspace_path: z.string(),
  pi_session_id: z.string().optional(),
  seq: z.number().int().nonnegative(),
  epoch: z.string(),
});
export type CreatedSession = z.infer<typeof CreatedSession>;

/** How a message reaches the agent: the canonical command it becomes (PROTOCOL.md §1.2). */
export const MessageMode = z.enum(["prompt", "steer", "follow_up"]);
/** `POST /api/sessions/{id}/prompt`. */
export const SendMessageRequest = z.strictObject({
  message: NonBlankMessage,
  mode: MessageMode.default("prompt"),
  /** Sent to pi with the message (PROTOCOL.md §1.2 bounds). */
  images: PromptImages.optional(),
  /** Idempotency: a repeated client_id is accepted once (the runner's dedupe). */
  client_id: z.string().min(1).max(128).optional(),
});
/** `POST /api/sessions/{id}/input`: the answer to an `agent.input_needed` request. */
export const InputAnswerRequest = z.strictObject({
  request_id: z.string().min(1).max(256),
  value: z
    .string()
    .max(1024 * 1024)
    .optional(),
  confirmed: z.boolean().optional(),
  cancelled: z.boolean().optional(),
});
/** 202: the command was accepted; `command_id` is the id of the canonical command sent. */
export const CommandAccepted = z.object({
  command_id: z.string(),
  /** The turn waits in the admission queue (PROTOCOL.md §2.2.1); `queue` events on the stream follow it. */
  queued: z.object({ position: z.number().int().positive(), queued_at: z.number() }).optional(),
});
export type CommandAccepted = z.infer<typeof CommandAccepted>;
/** 202 of `POST /api/sessions/{id}/abort`: answered once the aborted turn has ended. */
export const AbortAccepted = z.object({
  command_id: z.string(),
  was_running: z.boolean(),
  /** The turn was still waiting for admission and left the queue. */
  dequeued: z.boolean().optional(),
});
export type AbortAccepted = z.infer<typeof AbortAccepted>;

/** A resume point of the event stream: the `seq` of the last event the client has. */
export const EventResumeId = z
  .string()
  .regex(/^\d{1,15}$/, "must be the seq (a non-negative integer) of the last event received")
  .transform(Number);
/** `GET /api/sessions/{id}/events` query; the `Last-Event-ID` header, when present, wins over `after`. */
export const SessionEventsQuery = z.strictObject({ after: EventResumeId.optional() });

// Answers of routes that reply with a plain object (issue 16): the OpenAPI document describes each by its schema.

/** `GET /api/auth/setup`: whether the first admin has yet to be made. */
export const SetupStatus = z.object({ setup_required: z.boolean() });
export type SetupStatus = z.infer<typeof SetupStatus>;
/** `GET /api/keys`: the caller's own keys. */
export const ApiKeyList = z.object({ keys: z.array(ApiKey) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;
/** `GET /api/admin/users`. */
export const UserList = z.object({ users: z.array(User) });
export type UserList = z.infer<typeof UserList>;
/** `GET /api/admin/invite-codes`, newest first. */
export const InviteList = z.object({ invites: z.array(InviteCode) });
export type InviteList = z.infer<typeof InviteList>;
/** `DELETE /api/admin/login-locks/{username}`: how many clients' login delays were lifted. */
export const LoginLocksCleared = z.object({ cleared: z.number().int().nonnegative() });
export type LoginLocksCleared = z.infer<typeof LoginLocksCleared>;
/** `GET /api/admin/sessions`. */
export const AdminRunningSessions = z.object({ sessions: z.array(AdminRunningSession) });
export type AdminRunningSessions = z.infer<typeof AdminRunningSessions>;
/** `PUT /api/workspaces/{name}/files/{path}`: the file written (201 created, 200 replaced). */
export const FileUploaded = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  etag: z.string(),
});
export type FileUploaded = z.infer<typeof FileUploaded>;
/** `GET /api/openapi.json`: an OpenAPI 3.1 document (its full form is the OpenAPI specification's). */
export const OpenApiDocument = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

// Session routes' queries and bodies (PROTOCOL.md §4.2).

/** `GET /api/sessions` and `/api/sessions/search` paging. */
const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};
/** `GET /api/sessions` query. */
export const SessionListQuery = z.strictObject({ workspace: WorkspaceName.optional(), ...Paging });
/** `GET /api/sessions/search` query. */
export const SessionSearchQuery = z.strictObject({
  q: z.string().trim().min(1, "q must not be empty").max(1000),
  workspace: WorkspaceName.optional(),
  mode: SearchMode.default("auto"),
  ...Paging,
  limit: Paging.limit.pipe(z.number().max(200)),
});
/** `GET /api/sessions/{id}/messages` query. */
export const SessionMessagesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
/** `PATCH /api/sessions/{id}` body. */
export const RenameSessionRequest = z.strictObject({
  title: z.string().trim().min(1, "title must not be empty").max(200),
});
