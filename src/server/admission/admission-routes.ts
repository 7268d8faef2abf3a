import type { Hono } from "hono";
import type { AdminAdmission, AdmissionSession } from "../../protocol/rest.ts";
import type { AppEnv } from "../auth/index.ts";
import type { Store } from "../store/index.ts";
import type { AdmissionControl } from "./admission-control.ts";

/**
 * Admin: `GET /api/admin/admission`, the limit, the generating sessions and the queue in order
 * (admin-only by the namespace's guard in app.ts).
 */
export function registerAdmissionRoutes(app: Hono<AppEnv>, admission: AdmissionControl, store: Store): void {
  const describe = (sessionId: string): AdmissionSession => {
    const record = store.sessions.sessionRecord(sessionId);
    const owner = record ? store.users.byId(record.user_id) : null;
    return {
      session_id: sessionId,
      ...(owner && { user_id: owner.id, username: owner.username }),
      ...(record?.workspace_path && { workspace_path: record.workspace_path }),
    };
  };
  app.get("/api/admin/admission", (c) => {
    const { queue } = admission;
    const body: AdminAdmission = {
      limit: queue.limit,
      generating: queue
        .generatingSessions()
        .map(({ sessionId, since }) => ({ ...describe(sessionId), since })),
      queue: queue.entries().map((entry, index) => ({
        ...describe(entry.sessionId),
        position: index + 1,
        queued_at: entry.queuedAt,
      })),
    };
    return c.json(body);
  });
}
