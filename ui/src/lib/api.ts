import { z } from "zod";
import { QuotaSnapshot } from "../../../src/llm/eavs/eavs-schemas.ts";
import { EavsStatus, ProviderSyncResult } from "../../../src/protocol/eavs.ts";
import {
  AdminAdmission,
  type AdminCreateUserRequest,
  AdminRunningSession,
  type AdminUpdateUserRequest,
  ApiKey,
  AuditPage,
  AuthResponse,
  type ChangePasswordRequest,
  type CreateApiKeyRequest,
  CreatedApiKey,
  CreatedInvites,
  type CreateInviteRequest,
  HealthResponse,
  HistoryListResult,
  HistorySearchResult,
  InviteCode,
  type LimitScope,
  LimitsEntry,
  type LlmLimits,
  MyLimits,
  Provider,
  type ProviderBodyInput,
  type ProviderProbeRequest,
  ProviderProbeResult,
  type RegisterRequest,
  RestError,
  SandboxView,
  SessionSummary,
  type UpdateMeRequest,
  type UsageGroup,
  UsageReport,
  User,
  Workspace,
} from "../../../src/protocol/index.ts";

/** A failed REST call: the server's `{error, code, details?}` body, or a network/format failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

async function request<T>(method: Method, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers = { ...init.headers, "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(`/api${path}`, init);
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", "The server cannot be reached. Check your connection.");
  }
  const text = await response.text();
  const json = parseJson(text);
  if (!response.ok) {
    const parsed = RestError.safeParse(json);
    if (parsed.success) {
      throw new ApiError(
        response.status,
        parsed.data.code,
        describeRestError(parsed.data),
        parsed.data.details,
      );
    }
    throw new ApiError(
      response.status,
      "HTTP_ERROR",
      `Request failed (${response.status} ${response.statusText})`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(response.status, "BAD_RESPONSE", `Unexpected response from ${method} /api${path}`);
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `details.issues` of a 400: the zod issues of the rejected body, `path` joined with dots. */
const FieldIssues = z.array(z.object({ path: z.string(), code: z.string().optional(), message: z.string() }));

/**
 * What a 400 says about each field of the rejected body, by its dotted path (`models.0.price.input`), so
 * that a form can show each message next to its field. Empty for any other failure.
 */
export function fieldIssues(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || error.code !== "BAD_REQUEST") return {};
  const issues = FieldIssues.safeParse(error.details?.issues);
  if (!issues.success) return {};
  const byPath: Record<string, string> = {};
  for (const issue of issues.data) byPath[issue.path] ??= issue.message;
  return byPath;
}

/** A 400 names the fields; its `details` say what is wrong with each, which is what the user needs. */
function describeRestError(body: RestError): string {
  const issues = FieldIssues.safeParse(body.details?.issues);
  if (!issues.success || issues.data.length === 0) return body.error;
  // zxcvbn's reason already says "the password is…": a field name in front would only repeat it.
  if (issues.data[0]?.code === "weak_password") return body.error;
  return issues.data
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join("; ");
}

const Empty = z.unknown();
const SetupStatus = z.object({ setup_required: z.boolean() });
/** One page of the session list; `next_offset` is there while more pages follow. */
const SessionPage = HistoryListResult.extend({ next_offset: z.number().optional() });
export type SessionPage = z.infer<typeof SessionPage>;
/** A workspace's sandbox: the profile in force, the ones it may select, and the merged policy. */
export type WorkspaceSandbox = z.infer<typeof SandboxView>;

/** `?a=1&b=x` from the defined values. */
function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

const ApiKeyList = z.object({ keys: z.array(ApiKey) });
const UserList = z.object({ users: z.array(User) });
const InviteList = z.object({ invites: z.array(InviteCode) });
const RunningSessionList = z.object({ sessions: z.array(AdminRunningSession) });

/** A usage report's grouping and its days (`YYYY-MM-DD`, UTC, inclusive; the server defaults to the last 30). */
export interface UsageQuery {
  group: UsageGroup;
  from?: string;
  to?: string;
}

const sessionPath = (id: string) => `/sessions/${encodeURIComponent(id)}`;
const sandboxPath = (workspace: string) => `/workspaces/${encodeURIComponent(workspace)}/sandbox`;
const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;
const limitsPath = (scope: LimitScope, subject: string) =>
  `/admin/limits/${scope}/${encodeURIComponent(subject)}`;

export const api = {
  health: () => request("GET", "/health", HealthResponse),
  setupStatus: () => request("GET", "/auth/setup", SetupStatus),
  setup: (body: { setup_token: string; username: string; password: string }) =>
    request("POST", "/auth/setup", AuthResponse, body),
  login: (body: { username: string; password: string }) => request("POST", "/auth/login", AuthResponse, body),
  register: (body: z.input<typeof RegisterRequest>) => request("POST", "/auth/register", AuthResponse, body),
  logout: () => request("POST", "/auth/logout", Empty),
  me: () => request("GET", "/me", User),
  updateMe: (body: z.input<typeof UpdateMeRequest>) => request("PUT", "/me", User, body),
  changePassword: (body: z.input<typeof ChangePasswordRequest>) =>
    request("POST", "/me/password", AuthResponse, body),
  listApiKeys: async () => (await request("GET", "/keys", ApiKeyList)).keys,
  createApiKey: (body: z.input<typeof CreateApiKeyRequest>) => request("POST", "/keys", CreatedApiKey, body),
  deleteApiKey: (id: string) => request("DELETE", `/keys/${encodeURIComponent(id)}`, Empty),
  listWorkspaces: () => request("GET", "/workspaces", z.array(Workspace)),
  createWorkspace: (name: string) => request("POST", "/workspaces", Workspace, { name }),
  getSandbox: (workspace: string) => request("GET", sandboxPath(workspace), SandboxView),
  setSandboxProfile: (workspace: string, profile: string) =>
    request("PUT", sandboxPath(workspace), SandboxView, { profile }),
  listProviders: () => request("GET", "/admin/providers", z.array(Provider)),
  // The provider list is reloaded after each change, so the bodies of these replies are not used.
  createProvider: (body: ProviderBodyInput) => request("POST", "/admin/providers", Empty, body),
  updateProvider: (name: string, body: ProviderBodyInput) =>
    request("PUT", `/admin/providers/${encodeURIComponent(name)}`, Empty, body),
  deleteProvider: (name: string) => request("DELETE", `/admin/providers/${encodeURIComponent(name)}`, Empty),
  /** Tries the endpoint with the key (or the stored one of `name`) and lists the models it offers. */
  probeProvider: (body: ProviderProbeRequest) =>
    request("POST", "/admin/providers/probe", ProviderProbeResult, body),
  /** Re-reads the providers (from eavs in eavs mode) and pushes every runner a fresh models.json. */
  syncProviders: () => request("POST", "/admin/providers/sync", ProviderSyncResult),
  /** eavs mode only: a 409 says the server uses its own providers. */
  eavsStatus: () => request("GET", "/admin/eavs/status", EavsStatus),
  /** eavs' view of the providers' own rate limits; a 503 when eavs is unreachable. */
  eavsQuotas: () => request("GET", "/admin/eavs/quotas", z.array(QuotaSnapshot)),
  listLimits: () => request("GET", "/admin/limits", z.array(LimitsEntry)),
  setLimits: (scope: LimitScope, subject: string, limits: LlmLimits) =>
    request("PUT", limitsPath(scope, subject), LimitsEntry, limits),
  clearLimits: (scope: LimitScope, subject: string) => request("DELETE", limitsPath(scope, subject), Empty),
  adminUsage: (params: UsageQuery) => request("GET", `/admin/usage${query({ ...params })}`, UsageReport),
  myUsage: (params: UsageQuery) => request("GET", `/usage${query({ ...params })}`, UsageReport),
  myLimits: () => request("GET", "/usage/limits", MyLimits),
  listUsers: async () => (await request("GET", "/admin/users", UserList)).users,
  createUser: (body: z.input<typeof AdminCreateUserRequest>) => request("POST", "/admin/users", User, body),
  updateUser: (id: string, body: z.input<typeof AdminUpdateUserRequest>) =>
    request("PATCH", userPath(id), User, body),
  resetPassword: (id: string, password: string) =>
    request("POST", `${userPath(id)}/password`, Empty, { password }),
  /** `removeData`: multi-user mode also deletes the user's home (workspaces, history). */
  deleteUser: (id: string, removeData = false) =>
    request("DELETE", `${userPath(id)}${removeData ? "?remove_data=1" : ""}`, Empty),
  listInvites: async () => (await request("GET", "/admin/invite-codes", InviteList)).invites,
  createInvites: async (body: z.input<typeof CreateInviteRequest>) =>
    (await request("POST", "/admin/invite-codes", CreatedInvites, body)).invites,
  revokeInvite: (id: string) => request("DELETE", `/admin/invite-codes/${encodeURIComponent(id)}`, Empty),
  getAdmission: () => request("GET", "/admin/admission", AdminAdmission),
  listRunningSessions: async () => (await request("GET", "/admin/sessions", RunningSessionList)).sessions,
  stopSession: (id: string) => request("POST", `/admin/sessions/${encodeURIComponent(id)}/stop`, Empty),
  listAudit: (params: { before?: number; limit: number; action?: string }) =>
    request("GET", `/admin/audit${query(params)}`, AuditPage),
  listSessions: (params: { workspace?: string; limit: number; offset: number }) =>
    request("GET", `/sessions${query(params)}`, SessionPage),
  searchSessions: (params: { q: string; workspace?: string; limit: number }) =>
    request("GET", `/sessions/search${query(params)}`, HistorySearchResult),
  renameSession: (id: string, title: string) => request("PATCH", sessionPath(id), SessionSummary, { title }),
  deleteSession: (id: string) => request("DELETE", sessionPath(id), Empty),
};
