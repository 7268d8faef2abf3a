import type { Context, Hono } from "hono";
import { type AuthResponse, RegisterRequest } from "../../protocol/rest.ts";
import { sha256Hex } from "../../shared/sha256.ts";
import { clientIp } from "../auth/client-ip.ts";
import { setAuthCookie } from "../auth/cookie.ts";
import type { AppEnv } from "../auth/index.ts";
import { hashPassword } from "../auth/passwords.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import { HelperError } from "../privileged/helper-client.ts";
import { toPublicUser } from "../store/index.ts";
import type { AccountDeps } from "./account-deps.ts";
import { audit } from "./audit.ts";
import { normalizeInviteCode } from "./secrets.ts";
import { requireStrongPassword } from "./strong-password.ts";

export const REGISTRATION_NEEDS_MULTI_USER =
  "registration needs multi-user mode ([server] multi_user = true): in single-user mode every account " +
  "is the same Linux user, so only an admin adds accounts";

/**
 * `POST /api/auth/register {username, password, invite_code, display_name?}`: a new account from an
 * invite code, with its own Linux user. The invite's use is taken in one statement and given back
 * when anything after it fails, and so is the account: either all of it exists or none.
 */
export function registerRegistrationRoute(app: Hono<AppEnv>, deps: AccountDeps): void {
  const { store, config, auth, provisioner } = deps;

  app.post("/api/auth/register", async (c: Context<AppEnv>) => {
    if (!provisioner) throw new ApiError("FORBIDDEN", REGISTRATION_NEEDS_MULTI_USER);
    const wait = auth.rateLimiter.admitRequest(clientIp(c));
    if (wait > 0)
      throw new ApiError("RATE_LIMITED", `too many attempts, retry in ${wait} s`, undefined, {
        "Retry-After": String(wait),
      });
    const body = await parseJsonBody(c.req.raw, RegisterRequest);
    await requireStrongPassword(body.password, [body.username, body.display_name]);
    const passwordHash = await hashPassword(body.password);
    const invite = store.invites.consume(sha256Hex(normalizeInviteCode(body.invite_code)));
    if (!invite) {
      audit(store, c, "auth.register_refused", { target: body.username, actor: null });
      throw new ApiError("FORBIDDEN", "the invite code is unknown, used up, expired or revoked");
    }
    const user = store.users.create({
      username: body.username,
      passwordHash,
      role: "user",
      ...(body.display_name !== undefined && { displayName: body.display_name }),
    });
    if (!user) {
      store.invites.release(invite.id);
      throw new ApiError("CONFLICT", `username '${body.username}' is taken`);
    }
    try {
      await provisioner.ensureUser(user.username);
    } catch (error) {
      store.users.delete(user.id);
      store.invites.release(invite.id);
      if (error instanceof HelperError && error.code === "refused")
        throw new ApiError("CONFLICT", `username '${body.username}' cannot be used: ${error.message}`);
      throw new ApiError(
        "SERVICE_UNAVAILABLE",
        `could not create the Linux account: ${(error as Error).message}`,
      );
    }
    deps.llmKeys?.created(user);
    audit(store, c, "auth.register", {
      target: user.username,
      actor: user,
      detail: { invite: invite.prefix },
    });
    const token = await auth.tokens.sign(user);
    setAuthCookie(c, config, token);
    return c.json({ token, user: toPublicUser(user) } satisfies AuthResponse, 201);
  });
}
