import type { Role } from "../../protocol/rest.ts";
import { hashPassword } from "../auth/passwords.ts";
import { ApiError } from "../http-errors.ts";
import type { Store, UserRecord } from "../store/index.ts";
import { requireStrongPassword } from "./strong-password.ts";

/**
 * The rules of managing accounts, shared by the admin REST routes and `oqto user`: each change that
 * revokes (deactivation, role, password, deletion) bumps the token version in the same statement.
 * The last active admin cannot be demoted, deactivated or deleted: that would lock everyone out.
 */
function keepAnAdmin(store: Store, user: UserRecord, losesAdmin: boolean): void {
  if (losesAdmin && user.role === "admin" && user.is_active && store.users.activeAdminCount() <= 1)
    throw new ApiError("CONFLICT", "this is the last active admin: make another admin first");
}

export function changeAccess(
  store: Store,
  user: UserRecord,
  change: { is_active?: boolean; role?: Role },
): UserRecord {
  keepAnAdmin(store, user, change.is_active === false || change.role === "user");
  const updated = store.users.setAccess(user.id, change);
  if (!updated) throw new ApiError("NOT_FOUND", "no such user");
  return updated;
}

export async function resetPassword(store: Store, user: UserRecord, password: string): Promise<void> {
  await requireStrongPassword(password, [user.username, user.email ?? undefined]);
  store.users.setPassword(user.id, await hashPassword(password));
}

export function deleteUser(store: Store, user: UserRecord): void {
  keepAnAdmin(store, user, true);
  store.users.delete(user.id);
}
