import { z } from "zod";
import {
  AuthResponse,
  HealthResponse,
  LoginRequest,
  OpenApiDocument,
  RegisterRequest,
  SetupRequest,
  SetupStatus,
} from "../../protocol/rest.ts";
import { empty, json, type RouteDoc } from "./route-doc.ts";

const RetryAfter = z.object({ "Retry-After": z.string().meta({ description: "seconds to wait" }) });
const SetCookie = z.object({
  "Set-Cookie": z.string().meta({ description: "the session cookie `auth_token` (HttpOnly, SameSite=Lax)" }),
});
const anyJson = z.record(z.string(), z.unknown());

/** The routes anyone may call, the endpoints outside the app (mux, LLM gateway) and the UI. */
export const PUBLIC_ROUTES: RouteDoc[] = [
  {
    method: "get",
    path: "/api/health",
    operationId: "getHealth",
    summary: "Liveness and the server's mode",
    tag: "server",
    auth: "public",
    responses: { 200: json(HealthResponse, "the server is up") },
  },
  {
    method: "get",
    path: "/api/openapi.json",
    operationId: "getOpenApiDocument",
    summary: "This document",
    description:
      "The OpenAPI 3.1 document of the whole REST API, built at start from the zod schemas the routes validate with. Public: the API's shape is not a secret. Sent with an ETag; `If-None-Match` gets 304.",
    tag: "server",
    auth: "public",
    params: { header: z.object({ "If-None-Match": z.string().optional() }) },
    responses: {
      200: json(OpenApiDocument, "the document", z.object({ ETag: z.string() })),
      304: empty("the document the client holds is current"),
    },
  },
  {
    method: "get",
    path: "/api/auth/setup",
    operationId: "getSetupStatus",
    summary: "Whether the first admin has yet to be made",
    tag: "auth",
    auth: "public",
    responses: { 200: json(SetupStatus, "the setup state") },
  },
  {
    method: "post",
    path: "/api/auth/setup",
    operationId: "setupFirstAdmin",
    summary: "Make the first admin with the one-time setup token serve printed",
    tag: "auth",
    auth: "public",
    body: SetupRequest,
    responses: { 201: json(AuthResponse, "the admin, signed in", SetCookie) },
    errors: {
      BAD_REQUEST: "a weak password or a bad username",
      FORBIDDEN: "an invalid or expired setup token",
      CONFLICT: "setup is already complete, or the username is taken",
      RATE_LIMITED: "too many attempts from this client (see Retry-After)",
    },
  },
  {
    method: "post",
    path: "/api/auth/login",
    operationId: "login",
    summary: "Sign in with a username and password",
    tag: "auth",
    auth: "public",
    body: LoginRequest,
    responses: { 200: json(AuthResponse, "signed in: a session token and the user", SetCookie) },
    errors: {
      UNAUTHORIZED: "wrong credentials, or a deactivated account",
      RATE_LIMITED: "too many attempts, or a login delay after failures (see Retry-After)",
    },
  },
  {
    method: "post",
    path: "/api/auth/register",
    operationId: "register",
    summary: "Make an account from an invite code (multi-user mode)",
    tag: "auth",
    auth: "public",
    body: RegisterRequest,
    responses: { 201: json(AuthResponse, "the new account, signed in", SetCookie) },
    errors: {
      BAD_REQUEST: "a weak password or a bad username",
      FORBIDDEN: "an unknown, used up, expired or revoked invite code, or single-user mode",
      CONFLICT: "the username is taken, or its Linux name is used",
      RATE_LIMITED: "too many attempts from this client (see Retry-After)",
      SERVICE_UNAVAILABLE: "the Linux account could not be made (the invite's use is given back)",
    },
  },
  {
    method: "post",
    path: "/api/auth/logout",
    operationId: "logout",
    summary: "Sign out everywhere",
    description:
      "With a valid credential every token of the user is revoked and their WebSockets close; the cookie is cleared either way.",
    tag: "auth",
    auth: "public",
    responses: { 204: empty("signed out, cookie cleared") },
  },
  {
    method: "get",
    path: "/api/metrics",
    operationId: "getMetrics",
    summary: "Prometheus metrics",
    tag: "server",
    auth: "metrics",
    responses: {
      200: {
        description: "the Prometheus text exposition format",
        content: { "text/plain": { schema: z.string() } },
      },
    },
    errors: {
      UNAUTHORIZED: "neither the metrics token nor a credential",
      FORBIDDEN: "a credential of a user who is not an admin",
    },
  },
  {
    method: "get",
    path: "/api/ws/mux",
    operationId: "openMuxWebSocket",
    summary: "The multiplexed WebSocket (PROTOCOL.md §2)",
    description:
      "A WebSocket upgrade. Browsers cannot set headers on it, so the session token may also come as `?token=`.",
    tag: "websocket",
    auth: "user",
    outsideApp: true,
    params: { query: z.object({ token: z.string().optional() }) },
    responses: { 101: empty("switching to the WebSocket protocol") },
    errors: { BAD_REQUEST: "not a WebSocket upgrade" },
  },
  {
    method: "post",
    path: "/llm/:provider/*",
    operationId: "relayLlmRequest",
    summary: "The LLM gateway pi calls (PROTOCOL.md §4.4)",
    description:
      "Forwarded below the provider's base URL (any method), with the real key put in and the usage metered. Refusals are in that API's own error shape, not `{error, code}`.",
    tag: "llm-gateway",
    auth: "llm",
    outsideApp: true,
    params: { path: z.object({ provider: z.string(), path: z.string() }) },
    rawBody: {
      description: "the provider API's own request",
      content: { "application/json": { schema: anyJson } },
    },
    responses: {
      200: {
        description: "the provider's answer, streamed as it comes",
        content: { "application/json": { schema: anyJson }, "text/event-stream": { schema: z.string() } },
      },
      400: json(anyJson, "malformed JSON, or a path leaving the base URL"),
      401: json(anyJson, "no, an unknown or an ended LLM token"),
      402: json(anyJson, "a daily or monthly budget is used up"),
      403: json(anyJson, "a deactivated account, or a model not allowed"),
      404: json(anyJson, "an unknown provider or model"),
      413: json(anyJson, "a body over 32 MiB"),
      429: json(anyJson, "a rate limit", RetryAfter),
      502: json(anyJson, "the provider is unreachable"),
    },
  },
  {
    method: "get",
    path: "/*",
    operationId: "getUiPage",
    summary: "The web UI",
    description:
      "Every GET outside /api: a chunk of the single-page app by its hashed name, else the page itself. A missing file is 404.",
    tag: "ui",
    auth: "public",
    params: { path: z.object({ path: z.string() }) },
    responses: {
      200: { description: "the page or one of its files", content: { "text/html": { schema: z.string() } } },
      304: empty("the copy the browser holds is current"),
      404: { description: "no such file", content: { "text/plain": { schema: z.string() } } },
    },
  },
];
