import type { Hono } from "hono";
import { RunnerStatusResult, SessionId } from "../../protocol/index.ts";
import type { AdminRunningSession } from "../../protocol/rest.ts";
import { audit } from "../accounts/audit.ts";
import type { AppEnv } from "../auth/index.ts";
import { ApiError } from "../http-errors.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";
import type { RunnerFleet } from "../runner/runner-fleet.ts";
import type { Store } from "../store/index.ts";

const STATUS_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 20_000;

/**
 * Admin: every running session of every user, from each connected runner, and stopping one.
 * Admins act on other users' sessions only here, and every stop is audited.
 */
export function registerAdminSessionRoutes(app: Hono<AppEnv>, fleet: RunnerFleet, store: Store): void {
  app.get("/api/admin/sessions", async (c) => {
    const statuses = await Promise.all(
      fleet.connected().map((runner) =>
        runner
          .request("runner.status", {}, STATUS_TIMEOUT_MS)
          .then((raw) => RunnerStatusResult.parse(raw).sessions)
          // One runner that does not answer must not hide the others' sessions.
          .catch(() => []),
      ),
    );
    const sessions: AdminRunningSession[] = statuses.flat().map((session) => {
      const ownerId = store.sessions.sessionOwner(session.session_id);
      const owner = ownerId === null ? null : store.users.byId(ownerId);
      return {
        session_id: session.session_id,
        ...(owner && { user_id: owner.id, username: owner.username }),
        state: session.state,
        ...(session.phase && { phase: session.phase }),
        workspace_path: session.workspace_path,
        ...(session.pid !== undefined && { pid: session.pid }),
      };
    });
    return c.json({ sessions });
  });

  app.post("/api/admin/sessions/:id/stop", async (c) => {
    const sessionId = SessionId.safeParse(c.req.param("id"));
    if (!sessionId.success) throw new ApiError("BAD_REQUEST", "invalid session id");
    const ownerId = store.sessions.sessionOwner(sessionId.data);
    const owner = ownerId === null ? null : store.users.byId(ownerId);
    if (!owner) throw new ApiError("NOT_FOUND", `no session ${sessionId.data}`);
    const runner = fleet.runnerFor({ id: owner.id, username: owner.username, role: owner.role });
    const result = (await runner
      .request(
        "agent.command",
        { command: { session_id: sessionId.data, cmd: "session.close" } },
        CLOSE_TIMEOUT_MS,
      )
      .catch((error: unknown) => {
        throw runnerErrorToApi(error);
      })) as { success?: boolean; error?: string };
    if (result.success !== true)
      throw new ApiError("NOT_FOUND", result.error ?? `session ${sessionId.data} is not running`);
    audit(store, c, "admin.session_stop", { target: sessionId.data, detail: { user: owner.username } });
    return c.body(null, 204);
  });
}
