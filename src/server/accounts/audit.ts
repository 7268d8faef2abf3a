import type { Context } from "hono";
import type { AuditEntry } from "../../protocol/rest.ts";
import { clientIp } from "../auth/client-ip.ts";
import type { AppEnv } from "../auth/index.ts";
import type { AuditRecord, Store } from "../store/index.ts";

/** Who did it, when the request carries no authenticated user (a login, a setup). */
export interface AuditActor {
  id: string;
  username: string;
}

/**
 * Appends one entry to the audit log: the actor (the request's user unless given), the client's
 * address, what happened to what. Actions are dotted names: `auth.login`, `admin.user.delete`.
 */
export function audit(
  store: Store,
  c: Context<AppEnv>,
  action: string,
  {
    target,
    detail,
    actor,
  }: { target?: string; detail?: Record<string, unknown>; actor?: AuditActor | null } = {},
): void {
  const who = actor === undefined ? c.get("user") : actor;
  store.audit.append({
    actor_id: who?.id ?? null,
    actor_name: who?.username ?? null,
    action,
    target: target ?? null,
    ip: clientIp(c),
    ...(detail && { detail }),
  });
}

export function toAuditEntry(record: AuditRecord): AuditEntry {
  return {
    id: record.id,
    at: record.at,
    action: record.action,
    ...(record.actor_id !== null && { actor_id: record.actor_id }),
    ...(record.actor_name !== null && { actor_name: record.actor_name }),
    ...(record.target !== null && { target: record.target }),
    ...(record.ip !== null && { ip: record.ip }),
    ...(record.detail !== null && { detail: JSON.parse(record.detail) as Record<string, unknown> }),
  };
}
