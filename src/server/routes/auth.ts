import type { Context, Hono } from "hono";
import { type AuthResponse, LoginRequest, SetupRequest } from "../../protocol/rest.ts";
import type { AccountDeps } from "../accounts/account-deps.ts";
import { audit } from "../accounts/audit.ts";
import { requireStrongPassword } from "../accounts/strong-password.ts";
import { clientIp } from "../auth/client-ip.ts";
import { clearAuthCookie, setAuthCookie } from "../auth/cookie.ts";
import type { AppEnv } from "../auth/index.ts";
import { checkPassword, hashPassword } from "../auth/passwords.ts";
import { hashSetupToken } from "../auth/setup-token.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import { toPublicUser, type UserRecord } from "../store/index.ts";

function rateLimited(retryAfterS: number): ApiError {
  return new ApiError("RATE_LIMITED", `too many attempts, retry in ${retryAfterS} s`, undefined, {
    "Retry-After": String(retryAfterS),
  });
}

/**
 * Public auth routes (PROTOCOL.md §4.2): first-admin setup, login, logout. Login and setup are rate
 * limited per client IP, and failures slow down the client that made them, per username.
 */
export function registerAuthRoutes(app: Hono<AppEnv>, deps: AccountDeps): void {
  const { config, store, auth } = deps;
  const limiter = auth.rateLimiter;

  /** Counts the request from its client; returns that client's address for the per-account checks. */
  function admitRequest(c: Context): string {
    const ip = clientIp(c);
    const wait = limiter.admitRequest(ip);
    if (wait > 0) throw rateLimited(wait);
    return ip;
  }

  function admitUsername(c: Context<AppEnv>, username: string, ip: string): void {
    const wait = limiter.loginDelayFor(username, ip);
    if (wait > 0) {
      audit(store, c, "auth.login_delayed", {
        target: username,
        actor: null,
        detail: { retry_after_s: wait },
      });
      throw rateLimited(wait);
    }
  }

  /** Issues a token for `user`, sets the session cookie and builds the response body. */
  async function signIn(c: Context, user: UserRecord): Promise<AuthResponse> {
    const token = await auth.tokens.sign(user);
    setAuthCookie(c, config, token);
    return { token, user: toPublicUser(user) };
  }

  app.get("/api/auth/setup", (c) => c.json({ setup_required: !store.users.adminExists() }));

  app.post("/api/auth/setup", async (c) => {
    const ip = admitRequest(c);
    const body = await parseJsonBody(c.req.raw, SetupRequest);
    admitUsername(c, body.username, ip);
    if (store.users.adminExists()) throw new ApiError("CONFLICT", "setup is already complete");
    await requireStrongPassword(body.password, [body.username, body.email, body.display_name]);
    const passwordHash = await hashPassword(body.password);
    // Token check, user creation and token cleanup commit together: a failure leaves the token usable.
    const admin = store.db
      .transaction((): UserRecord => {
        if (store.users.adminExists()) throw new ApiError("CONFLICT", "setup is already complete");
        if (!store.setupTokens.consume(hashSetupToken(body.setup_token))) {
          limiter.recordFailure(body.username, ip);
          throw new ApiError("FORBIDDEN", "invalid or expired setup token");
        }
        const created = store.users.create({
          username: body.username,
          passwordHash,
          role: "admin",
          ...(body.email !== undefined && { email: body.email }),
          ...(body.display_name !== undefined && { displayName: body.display_name }),
        });
        if (!created) throw new ApiError("CONFLICT", `username '${body.username}' is taken`);
        store.setupTokens.clear();
        return created;
      })
      .immediate();
    limiter.recordSuccess(body.username, ip);
    audit(store, c, "auth.setup", { target: admin.username, actor: admin });
    deps.llmKeys?.created(admin);
    return c.json(await signIn(c, admin), 201);
  });

  app.post("/api/auth/login", async (c) => {
    const ip = admitRequest(c);
    const { username, password } = await parseJsonBody(c.req.raw, LoginRequest);
    admitUsername(c, username, ip);
    const user = store.users.byUsername(username);
    // Always verify (against a dummy hash for unknown users) so timing does not reveal which users exist.
    const passwordOk = await checkPassword(password, user?.password_hash ?? null);
    if (!user || !passwordOk) {
      limiter.recordFailure(username, ip);
      audit(store, c, "auth.login_failure", { target: username, actor: null });
      throw new ApiError("UNAUTHORIZED", "invalid username or password");
    }
    if (!user.is_active) {
      audit(store, c, "auth.login_failure", {
        target: username,
        actor: null,
        detail: { reason: "deactivated" },
      });
      throw new ApiError("UNAUTHORIZED", "this account is deactivated");
    }
    limiter.recordSuccess(username, ip);
    audit(store, c, "auth.login", { target: username, actor: user });
    const now = Date.now();
    store.users.recordLogin(user.id, now);
    return c.json(await signIn(c, { ...user, last_login_at: now }), 200);
  });

  /** Signs the caller out everywhere: every token issued so far stops working, open WebSockets close. */
  app.post("/api/auth/logout", async (c) => {
    const identity = await auth.identify(c.req.raw);
    if (identity) {
      store.users.revokeTokens(identity.user.id);
      deps.closeSocketsOf(identity.user.id);
      audit(store, c, "auth.logout", { target: identity.user.username, actor: identity.user });
    }
    clearAuthCookie(c, config);
    return c.body(null, 204);
  });
}
