import { z } from "zod";
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";
import { SessionSummary } from "../../protocol/history.ts";
import { LlmLimits, ModelSpec, UsageTotals } from "../../protocol/llm.ts";
import {
  ApiKey,
  AuditEntry,
  InviteCode,
  REST_ERROR_CODES,
  RestError,
  type RestErrorCode,
  User,
} from "../../protocol/rest.ts";
import { Workspace } from "../../protocol/runner.ts";
import { openApiPath, type RouteAuth, type RouteDoc, type RouteReply } from "./route-doc.ts";
import { ACCOUNT_ROUTES } from "./routes-account.ts";
import { ADMIN_ROUTES } from "./routes-admin.ts";
import { PUBLIC_ROUTES } from "./routes-public.ts";
import { SESSION_ROUTES } from "./routes-sessions.ts";
import { WORKSPACE_ROUTES } from "./routes-workspaces.ts";

/** Every route Oqto serves, described. */
export const ROUTE_CATALOGUE: readonly RouteDoc[] = [
  ...PUBLIC_ROUTES,
  ...ACCOUNT_ROUTES,
  ...WORKSPACE_ROUTES,
  ...SESSION_ROUTES,
  ...ADMIN_ROUTES,
];

/** A route as the router holds it (hono's `app.routes`). */
export interface RegisteredRoute {
  method: string;
  path: string;
}

/** Marks an operation the router serves that the catalogue does not describe (a test refuses it). */
export const UNDOCUMENTED = "x-oqto-undocumented";

function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

const SECURITY: Record<RouteAuth, oas31.SecurityRequirementObject[]> = {
  public: [],
  user: [{ bearer: [] }, { cookie: [] }],
  admin: [{ bearer: [] }, { cookie: [] }],
  metrics: [{ metricsToken: [] }, { bearer: [] }, { cookie: [] }],
  llm: [{ llmToken: [] }],
};

const SECURITY_SCHEMES: Record<string, oas31.SecuritySchemeObject> = {
  bearer: {
    type: "http",
    scheme: "bearer",
    description:
      "A session token (the JWT of /api/auth/login) or a personal API key (`oqto_…`, from POST /api/keys).",
  },
  cookie: {
    type: "apiKey",
    in: "cookie",
    name: "auth_token",
    description:
      "The session cookie login sets. A change (not GET/HEAD/OPTIONS) authenticated by it needs an allowed Origin (CSRF), else 403.",
  },
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description: "The token of `[server] metrics_token_file`.",
  },
  llmToken: {
    type: "http",
    scheme: "bearer",
    description:
      "A pi process's LLM token (also as `x-api-key` or `x-goog-api-key`); only the runner hands them out.",
  },
};

const TAGS: oas31.TagObject[] = [
  { name: "server", description: "Health, this document, metrics" },
  { name: "auth", description: "First admin, sign-in, registration, sign-out" },
  { name: "account", description: "The caller's own profile, password and API keys" },
  { name: "usage", description: "LLM usage and limits" },
  { name: "workspaces", description: "Workspaces and their sandbox" },
  { name: "files", description: "Workspace file bytes" },
  { name: "sessions", description: "History, and sessions driven from scripts" },
  { name: "admin", description: "Accounts, invites, audit, running sessions (admins only)" },
  { name: "llm", description: "LLM providers (admins only)" },
  { name: "websocket", description: "The multiplexed WebSocket" },
  { name: "llm-gateway", description: "pi's way to the providers" },
  { name: "ui", description: "The web UI" },
];

const UNSAFE_METHODS = new Set(["post", "put", "patch", "delete"]);

/** The error answers of a route: its own refusals first, then those every such route shares. */
function errorReasons(doc: RouteDoc): Map<RestErrorCode, string[]> {
  const reasons = new Map<RestErrorCode, string[]>();
  const add = (code: RestErrorCode, reason: string) =>
    reasons.set(code, [...(reasons.get(code) ?? []), reason]);
  for (const [code, reason] of Object.entries(doc.errors ?? {})) add(code as RestErrorCode, reason);
  const signedIn = doc.auth === "user" || doc.auth === "admin";
  if (signedIn) add("UNAUTHORIZED", "no credential, or an invalid, expired or revoked one");
  if (doc.auth === "admin") add("FORBIDDEN", "the caller is not an admin");
  if (signedIn && UNSAFE_METHODS.has(doc.method) && !doc.outsideApp)
    add("FORBIDDEN", "a change authenticated by the cookie from an Origin not allowed (CSRF)");
  if (doc.body) {
    add("BAD_REQUEST", "malformed JSON, or a body the schema refuses (`details.issues`)");
    add("PAYLOAD_TOO_LARGE", "the JSON body is too large");
    add("UNSUPPORTED_MEDIA_TYPE", "the body is not `Content-Type: application/json`");
  }
  if (doc.runner) {
    add("BAD_GATEWAY", "the runner failed (`details.runner_code`)");
    add("SERVICE_UNAVAILABLE", "the user's runner is not connected");
    add("GATEWAY_TIMEOUT", "the runner did not answer in time");
  }
  add("INTERNAL_ERROR", "an unexpected error (logged)");
  return reasons;
}

const ERROR_HEADERS: Partial<Record<RestErrorCode, z.ZodObject>> = {
  RATE_LIMITED: z.object({ "Retry-After": z.string().meta({ description: "seconds to wait" }) }),
  RANGE_NOT_SATISFIABLE: z.object({ "Content-Range": z.string().meta({ description: "bytes */<size>" }) }),
};

function errorResponses(doc: RouteDoc): ZodOpenApiResponsesObject {
  const responses: ZodOpenApiResponsesObject = {};
  // The gateway answers in each provider API's own error shape: its catalogue entry says which.
  if (doc.auth === "llm") return responses;
  for (const [code, reasons] of errorReasons(doc)) {
    const headers = ERROR_HEADERS[code];
    responses[`${REST_ERROR_CODES[code]}`] = {
      description: `\`${code}\`: ${reasons.join("; ")}`,
      content: { "application/json": { schema: RestError } },
      ...(headers && { headers }),
    };
  }
  return responses;
}

function reply(answer: RouteReply): ZodOpenApiResponseObject {
  const content = answer.json ? { "application/json": { schema: answer.json } } : answer.content;
  return {
    description: answer.description,
    ...(content && { content }),
    ...(answer.headers && { headers: answer.headers }),
  };
}

function operation(doc: RouteDoc): ZodOpenApiOperationObject {
  const responses = errorResponses(doc);
  for (const [status, answer] of Object.entries(doc.responses)) {
    if (answer) responses[status as `2${string}`] = reply(answer);
  }
  const body = doc.body
    ? { required: true, content: { "application/json": { schema: doc.body } } }
    : doc.rawBody && { required: true, ...doc.rawBody };
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description && { description: doc.description }),
    tags: [doc.tag],
    security: SECURITY[doc.auth],
    ...(doc.auth === "admin" && { "x-oqto-role": "admin" }),
    ...(doc.params && { requestParams: doc.params }),
    ...(body && { requestBody: body }),
    responses,
  };
}

function undocumented(key: string): ZodOpenApiOperationObject {
  return {
    summary: `${key}: served, but not described (add it to src/server/openapi/)`,
    [UNDOCUMENTED]: true,
    responses: { default: { description: "not described" } },
  };
}

/**
 * The OpenAPI 3.1 document of the routes `registered` holds (the router's own list, so a
 * route without a description shows up marked, and one not served here is left out), plus
 * those served before the app. Schemas come from the routes' own zod schemas via zod-openapi
 * (itself zod's `toJSONSchema`, draft 2020-12).
 */
export function buildOpenApiDocument(
  registered: readonly RegisteredRoute[],
  version: string,
): ReturnType<typeof createDocument> {
  const served = new Set(registered.filter((r) => r.method !== "ALL").map((r) => routeKey(r.method, r.path)));
  const paths: ZodOpenApiPathsObject = {};
  const put = (path: string, method: string, op: ZodOpenApiOperationObject) => {
    const template = openApiPath(path);
    paths[template] = { ...paths[template], [method.toLowerCase()]: op };
  };
  const described = new Set<string>();
  for (const doc of ROUTE_CATALOGUE) {
    const key = routeKey(doc.method, doc.path);
    described.add(key);
    if (doc.outsideApp || served.has(key)) put(doc.path, doc.method, operation(doc));
  }
  for (const key of served) {
    if (described.has(key)) continue;
    const [method = "", path = ""] = key.split(" ");
    put(path, method, undocumented(key));
  }
  return createDocument({
    openapi: "3.1.1",
    info: {
      title: "Oqto REST API",
      version,
      description:
        "Oqto's REST API (docs/PROTOCOL.md §4). Errors are `{error, code, details?}` with the status of `code`.",
    },
    tags: TAGS,
    paths,
    components: {
      securitySchemes: SECURITY_SCHEMES,
      // Named types: only schemas no other named one contains (zod-openapi would name a nested one "…Output").
      schemas: {
        RestError,
        User,
        ApiKey,
        InviteCode,
        AuditEntry,
        Workspace,
        SessionSummary,
        ModelSpec,
        LlmLimits,
        UsageTotals,
      },
    },
  });
}
