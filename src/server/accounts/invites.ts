import type { z } from "zod";
import type { CreateInviteRequest, InviteCode } from "../../protocol/rest.ts";
import type { InviteCodeRecord, Store } from "../store/index.ts";
import { mintInviteCode } from "./secrets.ts";

export type InviteSettings = z.output<typeof CreateInviteRequest>;

/** Makes `count` codes with the same settings; the codes come back in the clear this once. */
export function createInvites(
  store: Store,
  settings: InviteSettings,
  createdBy: string | null,
  now = Date.now(),
): Array<{ code: string; record: InviteCodeRecord }> {
  return store.db.transaction(() =>
    Array.from({ length: settings.count }, () => {
      const minted = mintInviteCode();
      const record = store.invites.create({
        code_hash: minted.hash,
        prefix: minted.prefix,
        max_uses: settings.max_uses,
        note: settings.note ?? null,
        created_by: createdBy,
        created_at: now,
        expires_at: settings.expires_in_s === undefined ? null : now + settings.expires_in_s * 1000,
      });
      return { code: minted.secret, record };
    }),
  )();
}

export function toInviteCode(record: InviteCodeRecord, now = Date.now()): InviteCode {
  const state =
    record.revoked_at !== null
      ? "revoked"
      : record.uses >= record.max_uses
        ? "used_up"
        : record.expires_at !== null && record.expires_at <= now
          ? "expired"
          : "active";
  return {
    id: record.id,
    prefix: record.prefix,
    max_uses: record.max_uses,
    uses: record.uses,
    remaining: state === "active" ? record.max_uses - record.uses : 0,
    state,
    created_at: record.created_at,
    ...(record.note !== null && { note: record.note }),
    ...(record.created_by !== null && { created_by: record.created_by }),
    ...(record.expires_at !== null && { expires_at: record.expires_at }),
    ...(record.revoked_at !== null && { revoked_at: record.revoked_at }),
  };
}
