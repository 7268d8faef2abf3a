import type { Hono } from "hono";
import { type AuditPage, AuditQueryParams } from "../../protocol/rest.ts";
import type { AppEnv } from "../auth/index.ts";
import { parseQuery } from "../http-errors.ts";
import type { Store } from "../store/index.ts";
import { toAuditEntry } from "./audit.ts";

/** `GET /api/admin/audit?before=&limit=&action=`: the audit log, newest first, paged by id. */
export function registerAuditRoutes(app: Hono<AppEnv>, store: Store): void {
  app.get("/api/admin/audit", (c) => {
    const query = parseQuery(AuditQueryParams, c.req.query());
    const records = store.audit.list(query);
    const last = records.at(-1);
    const page: AuditPage = {
      entries: records.map(toAuditEntry),
      ...(records.length === query.limit && last && { next_before: last.id }),
    };
    return c.json(page);
  });
}
