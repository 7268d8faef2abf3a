import type { Hono } from "hono";
import { type CreatedInvites, CreateInviteRequest } from "../../protocol/rest.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import type { Store } from "../store/index.ts";
import { audit } from "./audit.ts";
import { createInvites, toInviteCode } from "./invites.ts";

/** Admin invite codes (`/api/admin/invite-codes`): create one or a batch, list, revoke. */
export function registerInviteRoutes(app: Hono<AppEnv>, store: Store): void {
  app.get("/api/admin/invite-codes", (c) =>
    c.json({ invites: store.invites.list().map((r) => toInviteCode(r)) }),
  );

  app.post("/api/admin/invite-codes", async (c) => {
    const settings = await parseJsonBody(c.req.raw, CreateInviteRequest);
    const created = createInvites(store, settings, c.var.user.username);
    audit(store, c, "admin.invite_create", {
      target: created.map(({ record }) => record.prefix).join(","),
      detail: {
        count: settings.count,
        max_uses: settings.max_uses,
        expires_in_s: settings.expires_in_s ?? null,
      },
    });
    const body: CreatedInvites = {
      invites: created.map(({ code, record }) => ({ ...toInviteCode(record), code })),
    };
    return c.json(body, 201);
  });

  app.delete("/api/admin/invite-codes/:id", (c) => {
    const id = c.req.param("id");
    if (!store.invites.revoke(id)) throw new ApiError("NOT_FOUND", "no such active invite code");
    audit(store, c, "admin.invite_revoke", { target: id });
    return c.body(null, 204);
  });
}
