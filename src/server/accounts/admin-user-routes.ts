import type { Context, Hono } from "hono";
import {
  AdminCreateUserRequest,
  AdminUpdateUserRequest,
  DeleteUserQuery,
  ResetPasswordRequest,
} from "../../protocol/rest.ts";
import type { AppEnv } from "../auth/index.ts";
import { hashPassword } from "../auth/passwords.ts";
import { ApiError, parseJsonBody, parseQuery } from "../http-errors.ts";
import { toPublicUser, type UserRecord } from "../store/index.ts";
import type { AccountDeps } from "./account-deps.ts";
import { audit } from "./audit.ts";
import { requireStrongPassword } from "./strong-password.ts";
import { changeAccess, deleteUser, resetPassword } from "./user-admin.ts";

/**
 * Admin user management (`/api/admin/users`, admin-only by the namespace's guard). Every change is
 * audited; deactivation, deletion, a role change and a password reset sign the user out at once
 * (the rules: user-admin.ts).
 */
export function registerAdminUserRoutes(app: Hono<AppEnv>, deps: AccountDeps): void {
  const { store } = deps;

  function target(c: Context<AppEnv>): UserRecord {
    const user = store.users.byId(c.req.param("id") ?? "");
    if (!user) throw new ApiError("NOT_FOUND", "no such user");
    return user;
  }

  app.get("/api/admin/users", (c) => c.json({ users: store.users.list().map(toPublicUser) }));

  app.post("/api/admin/users", async (c) => {
    const body = await parseJsonBody(c.req.raw, AdminCreateUserRequest);
    await requireStrongPassword(body.password, [body.username, body.email, body.display_name]);
    const created = store.users.create({
      username: body.username,
      passwordHash: await hashPassword(body.password),
      role: body.role,
      ...(body.email !== undefined && { email: body.email }),
      ...(body.display_name !== undefined && { displayName: body.display_name }),
    });
    if (!created) throw new ApiError("CONFLICT", `username '${body.username}' is taken`);
    audit(store, c, "admin.user_create", { target: created.username, detail: { role: created.role } });
    deps.llmKeys?.created(created);
    return c.json(toPublicUser(created), 201);
  });

  app.patch("/api/admin/users/:id", async (c) => {
    const body = await parseJsonBody(c.req.raw, AdminUpdateUserRequest);
    const user = target(c);
    const updated = changeAccess(store, user, body);
    deps.closeSocketsOf(user.id);
    // A deactivated user's agents stop with their runner; reactivation starts it on the next request.
    if (body.is_active === false) await deps.releaseRunner?.(user.id);
    deps.llmKeys?.accessChanged(updated, body);
    audit(store, c, "admin.user_update", { target: user.username, detail: body });
    return c.json(toPublicUser(updated));
  });

  app.post("/api/admin/users/:id/password", async (c) => {
    const body = await parseJsonBody(c.req.raw, ResetPasswordRequest);
    const user = target(c);
    await resetPassword(store, user, body.password);
    deps.closeSocketsOf(user.id);
    audit(store, c, "admin.user_password_reset", { target: user.username });
    return c.body(null, 204);
  });

  /**
   * Deletes the account. In multi-user mode its runner stops and its Linux account goes too; its
   * home (workspaces, history) stays unless `remove_data=1`. In single-user mode the files belong
   * to the one shared Linux user, so there is nothing of theirs alone to remove.
   */
  app.delete("/api/admin/users/:id", async (c) => {
    const { remove_data } = parseQuery(DeleteUserQuery, c.req.query());
    const removeData = remove_data === "1";
    if (removeData && !deps.provisioner)
      throw new ApiError(
        "BAD_REQUEST",
        "remove_data needs multi-user mode: in single-user mode every account's files are the same Linux user's",
      );
    const user = target(c);
    deleteUser(store, user);
    deps.closeSocketsOf(user.id);
    deps.llmKeys?.deleted(user.id);
    await deps.releaseRunner?.(user.id);
    if (deps.provisioner) {
      await deps.provisioner.deleteUser(user.username, removeData).catch((error: Error) => {
        throw new ApiError(
          "SERVICE_UNAVAILABLE",
          `the account is deleted, its Linux user not: ${error.message}`,
        );
      });
    }
    audit(store, c, "admin.user_delete", { target: user.username, detail: { remove_data: removeData } });
    return c.body(null, 204);
  });
}
