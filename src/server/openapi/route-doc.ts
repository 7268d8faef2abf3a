import type { z } from "zod";
import type { ZodOpenApiContentObject } from "zod-openapi";
import type { RestErrorCode } from "../../protocol/rest.ts";

/**
 * Who may call a route: anyone, a signed-in user (session token or personal API key, as Bearer
 * or the session cookie), an admin, the metrics scraper (metrics token or an admin), or a pi
 * process (its LLM token).
 */
export type RouteAuth = "public" | "user" | "admin" | "metrics" | "llm";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** One answer of a route: JSON of `json`, or other content described by its media types. */
export interface RouteReply {
  description: string;
  json?: z.ZodType;
  content?: ZodOpenApiContentObject;
  /** Response headers, one zod string per header name. */
  headers?: z.ZodObject;
}

/**
 * The description of one route, from which its OpenAPI operation is made. Every schema here is
 * the zod object the route itself parses or answers with (imported, never restated); a route
 * that parses nothing of some part (a flag it compares as a string) is described here alone.
 */
export interface RouteDoc {
  method: HttpMethod;
  /** The path as the router registers it (`:id`, a trailing `*`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: RouteAuth;
  /** Each an object of the parameters of that place, by name. */
  params?: { path?: z.ZodObject; query?: z.ZodObject; header?: z.ZodObject };
  /** A JSON request body, validated by `parseJsonBody` (415 / 413 / 400 follow). */
  body?: z.ZodType;
  /** A request body of another kind (an upload's raw bytes). */
  rawBody?: { description: string; content: ZodOpenApiContentObject };
  responses: Partial<Record<number, RouteReply>>;
  /** What the route's own refusals mean, by error code; the common ones (auth, body) are added. */
  errors?: Partial<Record<RestErrorCode, string>>;
  /** The route asks the user's runner: its failures are 502 / 503 / 504. */
  runner?: true;
  /** Served by Bun.serve before the app (the mux WebSocket, the LLM gateway), so not in the router. */
  outsideApp?: true;
}

/** A JSON answer. */
export function json(schema: z.ZodType, description: string, headers?: z.ZodObject): RouteReply {
  return { description, json: schema, ...(headers && { headers }) };
}

/** An answer without a body (204, 304). */
export function empty(description: string): RouteReply {
  return { description };
}

/** The router's `:name` and trailing `*` as OpenAPI path templates (`{name}`, `{path}`). */
export function openApiPath(routerPath: string): string {
  return routerPath.replace(/\/\*$/, "/{path}").replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}
