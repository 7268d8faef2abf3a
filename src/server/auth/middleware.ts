import type { MiddlewareHandler } from "hono";
import type { User } from "../../protocol/rest.ts";
import { ApiError } from "../http-errors.ts";
import { type Store, toPublicUser } from "../store/index.ts";
import { readAuthCookie } from "./cookie.ts";
import type { TokenService } from "./jwt.ts";
import { type AllowedOrigins, isUnsafeMethod } from "./origin.ts";

/** The authenticated user as routes see it, re-read from the DB on every request. */
export type AuthUser = User;

/** Hono environment of the Oqto app: authenticated routes find the caller in `c.var.user`. */
export interface AppEnv {
  Variables: { user: AuthUser };
}

type CredentialSource = "bearer" | "query" | "cookie";
interface Credential {
  token: string;
  source: CredentialSource;
}

export interface AuthGuardDeps {
  origins: AllowedOrigins;
  store: Store;
  tokens: TokenService;
}

export interface AuthGuard {
  /** Requires a valid token (Bearer header or cookie) and enforces the CSRF Origin rule for cookies. */
  middleware: MiddlewareHandler<AppEnv>;
  /**
   * Authenticates a WebSocket upgrade: Bearer header, `?token=` (accepted only here, because browsers cannot
   * set headers on WebSocket requests), or cookie (then the Origin must be allowed). Null when not authenticated.
   */
  authenticateRequest(req: Request): Promise<AuthUser | null>;
}

/** A present but malformed Authorization header is a failed credential, never a reason to try the cookie. */
function bearerCredential(req: Request): Credential | null | "malformed" {
  const header = req.headers.get("authorization");
  if (header === null) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ? { token: match[1], source: "bearer" } : "malformed";
}

function cookieCredential(req: Request): Credential | null {
  const token = readAuthCookie(req);
  return token === null ? null : { token, source: "cookie" };
}

function queryCredential(req: Request): Credential | null {
  const token = new URL(req.url).searchParams.get("token");
  return token ? { token, source: "query" } : null;
}

export function createAuthGuard({ origins, store, tokens }: AuthGuardDeps): AuthGuard {
  /** The user behind a token; null when the token is invalid, the user is gone or inactive, or `tv` is stale. */
  async function userForToken(token: string): Promise<AuthUser | null> {
    const claims = await tokens.verify(token);
    if (!claims) return null;
    const user = store.users.byId(claims.sub);
    if (!user?.is_active || user.tv !== claims.tv) return null;
    return toPublicUser(user);
  }

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const bearer = bearerCredential(c.req.raw);
    if (bearer === "malformed") throw new ApiError("UNAUTHORIZED", "malformed Authorization header");
    const credential = bearer ?? cookieCredential(c.req.raw);
    if (!credential) throw new ApiError("UNAUTHORIZED", "authentication required");
    const user = await userForToken(credential.token);
    if (!user) throw new ApiError("UNAUTHORIZED", "invalid or expired token");
    if (credential.source === "cookie" && isUnsafeMethod(c.req.method) && !origins.allows(c.req.raw)) {
      throw new ApiError("FORBIDDEN", "cross-origin request refused: Origin is not allowed");
    }
    c.set("user", user);
    await next();
  };

  async function authenticateRequest(req: Request): Promise<AuthUser | null> {
    const bearer = bearerCredential(req);
    if (bearer === "malformed") return null;
    const credential = bearer ?? queryCredential(req) ?? cookieCredential(req);
    if (!credential) return null;
    if (credential.source === "cookie" && !origins.allows(req)) return null;
    return userForToken(credential.token);
  }

  return { middleware, authenticateRequest };
}

/** Admin-only routes: 403 for authenticated non-admins. Must run after the auth middleware. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.var.user.role !== "admin") throw new ApiError("FORBIDDEN", "administrator role required");
  await next();
};
