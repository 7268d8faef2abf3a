import type { MiddlewareHandler } from "hono";
import type { User } from "../../protocol/rest.ts";
import { sha256Hex } from "../../shared/sha256.ts";
import { isApiKey } from "../accounts/secrets.ts";
import { ApiError } from "../http-errors.ts";
import { type Store, toPublicUser } from "../store/index.ts";
import { readAuthCookie } from "./cookie.ts";
import type { TokenService } from "./jwt.ts";
import { type AllowedOrigins, isUnsafeMethod } from "./origin.ts";

/** The authenticated user as routes see it, re-read from the DB on every request. */
export type AuthUser = User;

/**
 * What a request was authenticated with, so a long-lived WebSocket can be re-checked later: a
 * session token of token version `tv`, or the personal API key `keyId`.
 */
export type CredentialRef = { kind: "token"; tv: number } | { kind: "key"; keyId: string };

export interface Identity {
  user: AuthUser;
  credential: CredentialRef;
}

/** Hono environment of the Oqto app: authenticated routes find the caller in `c.var.user`. */
export interface AppEnv {
  Variables: { user: AuthUser; credential: CredentialRef };
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
  /** Requires a valid token or API key (Bearer header or cookie) and enforces the CSRF Origin rule for cookies. */
  middleware: MiddlewareHandler<AppEnv>;
  /**
   * Authenticates a WebSocket upgrade: Bearer header, `?token=` (accepted only here, because browsers cannot
   * set headers on WebSocket requests), or cookie (then the Origin must be allowed). Null when not authenticated.
   */
  authenticateRequest(req: Request): Promise<Identity | null>;
  /**
   * The caller if the request carries a valid Bearer token or key, or a cookie from an allowed
   * Origin; null otherwise (never throws: for routes that also serve the signed-out, like logout).
   */
  identify(req: Request): Promise<Identity | null>;
  /** Whether `credential` of user `userId` still holds (user active, token not revoked, key not deleted or expired). */
  stillValid(userId: string, credential: CredentialRef): boolean;
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
  // Not new URL(req.url): a request with an invalid Host has a URL that does not parse.
  const query = req.url.indexOf("?");
  const token = query < 0 ? null : new URLSearchParams(req.url.slice(query + 1)).get("token");
  return token ? { token, source: "query" } : null;
}

export function createAuthGuard({ origins, store, tokens }: AuthGuardDeps): AuthGuard {
  /** The user behind a key; null when it is unknown, expired, or its user is gone or inactive. */
  function identityForKey(key: string): Identity | null {
    const record = store.apiKeys.use(sha256Hex(key));
    if (!record) return null;
    const user = store.users.byId(record.user_id);
    if (!user?.is_active) return null;
    return { user: toPublicUser(user), credential: { kind: "key", keyId: record.id } };
  }

  /** The user behind a token; null when the token is invalid, the user is gone or inactive, or `tv` is stale. */
  async function identityFor(token: string): Promise<Identity | null> {
    if (isApiKey(token)) return identityForKey(token);
    const claims = await tokens.verify(token);
    if (!claims) return null;
    const user = store.users.byId(claims.sub);
    if (!user?.is_active || user.tv !== claims.tv) return null;
    return { user: toPublicUser(user), credential: { kind: "token", tv: claims.tv } };
  }

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const bearer = bearerCredential(c.req.raw);
    if (bearer === "malformed") throw new ApiError("UNAUTHORIZED", "malformed Authorization header");
    const credential = bearer ?? cookieCredential(c.req.raw);
    if (!credential) throw new ApiError("UNAUTHORIZED", "authentication required");
    const identity = await identityFor(credential.token);
    if (!identity) throw new ApiError("UNAUTHORIZED", "invalid or expired token");
    if (credential.source === "cookie" && isUnsafeMethod(c.req.method) && !origins.allows(c.req.raw)) {
      throw new ApiError("FORBIDDEN", "cross-origin request refused: Origin is not allowed");
    }
    c.set("user", identity.user);
    c.set("credential", identity.credential);
    await next();
  };

  async function authenticateRequest(req: Request): Promise<Identity | null> {
    const bearer = bearerCredential(req);
    if (bearer === "malformed") return null;
    const credential = bearer ?? queryCredential(req) ?? cookieCredential(req);
    if (!credential) return null;
    if (credential.source === "cookie" && !origins.allows(req)) return null;
    return identityFor(credential.token);
  }

  async function identify(req: Request): Promise<Identity | null> {
    const bearer = bearerCredential(req);
    if (bearer === "malformed") return null;
    const credential = bearer ?? cookieCredential(req);
    if (!credential) return null;
    if (credential.source === "cookie" && !origins.allows(req)) return null;
    return identityFor(credential.token);
  }

  function stillValid(userId: string, credential: CredentialRef): boolean {
    const user = store.users.byId(userId);
    if (!user?.is_active) return false;
    if (credential.kind === "token") return user.tv === credential.tv;
    return store.apiKeys.isLive(credential.keyId);
  }

  return { middleware, authenticateRequest, identify, stillValid };
}

/** Admin-only routes: 403 for authenticated non-admins. Must run after the auth middleware. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.var.user.role !== "admin") throw new ApiError("FORBIDDEN", "administrator role required");
  await next();
};
