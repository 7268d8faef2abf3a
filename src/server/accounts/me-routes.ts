import type { Hono } from "hono";
import { type AuthResponse, ChangePasswordRequest, UpdateMeRequest } from "../../protocol/rest.ts";
import { setAuthCookie } from "../auth/cookie.ts";
import type { AppEnv } from "../auth/index.ts";
import { checkPassword, hashPassword } from "../auth/passwords.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import { toPublicUser } from "../store/index.ts";
import type { AccountDeps } from "./account-deps.ts";
import { audit } from "./audit.ts";
import { requireStrongPassword } from "./strong-password.ts";

/** The caller's own account: `GET/PUT /api/me`, `POST /api/me/password`. */
export function registerMeRoutes(app: Hono<AppEnv>, deps: AccountDeps): void {
  const { store, config, auth } = deps;

  app.get("/api/me", (c) => c.json(c.var.user));

  app.put("/api/me", async (c) => {
    const body = await parseJsonBody(c.req.raw, UpdateMeRequest);
    const updated = store.users.updateProfile(c.var.user.id, body);
    if (!updated) throw new ApiError("NOT_FOUND", "no such user");
    return c.json(toPublicUser(updated));
  });

  /**
   * A new password signs the user out everywhere (every token, every open WebSocket) and signs this
   * client in again, so that changing it is also how one ends a stolen session.
   */
  app.post("/api/me/password", async (c) => {
    const body = await parseJsonBody(c.req.raw, ChangePasswordRequest);
    const user = store.users.byId(c.var.user.id);
    if (!user || !(await checkPassword(body.current_password, user.password_hash))) {
      throw new ApiError("FORBIDDEN", "the current password is wrong");
    }
    await requireStrongPassword(body.new_password, [user.username, user.email ?? undefined], "new_password");
    store.users.setPassword(user.id, await hashPassword(body.new_password));
    deps.closeSocketsOf(user.id);
    audit(store, c, "account.password_change", { target: user.username });
    const fresh = store.users.byId(user.id);
    if (!fresh) throw new ApiError("NOT_FOUND", "no such user");
    const token = await auth.tokens.sign(fresh);
    setAuthCookie(c, config, token);
    return c.json({ token, user: toPublicUser(fresh) } satisfies AuthResponse);
  });
}
