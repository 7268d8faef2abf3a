import { join } from "node:path";
import type { Hono } from "hono";
import {
  RenameSessionRequest,
  SessionId,
  SessionListQuery,
  SessionMessagesQuery,
  SessionSearchQuery,
} from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import type { HistoryGateway } from "../history-gateway.ts";
import { ApiError, parseJsonBody, parseQuery } from "../http-errors.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";

function sessionIdParam(raw: string): string {
  const parsed = SessionId.safeParse(raw);
  if (!parsed.success) throw new ApiError("BAD_REQUEST", "invalid session id");
  return parsed.data;
}

/** Session history over REST (PROTOCOL.md §4.2): every read goes through the owning user's runner. */
export function registerSessionRoutes(
  app: Hono<AppEnv>,
  history: HistoryGateway,
  workspaceRootFor: (user: MuxUser) => string,
): void {
  const workspacePath = (user: MuxUser, name: string | undefined) =>
    name === undefined ? undefined : join(workspaceRootFor(user), name);
  const call = <T>(work: Promise<T>) =>
    work.catch((error: unknown) => {
      throw runnerErrorToApi(error);
    });

  app.get("/api/sessions", async (c) => {
    const query = parseQuery(SessionListQuery, c.req.query());
    const path = workspacePath(c.var.user, query.workspace);
    return c.json(
      await call(
        history.list(c.var.user, {
          limit: query.limit,
          offset: query.offset,
          ...(path ? { workspace_path: path } : {}),
        }),
      ),
    );
  });

  app.get("/api/sessions/search", async (c) => {
    const query = parseQuery(SessionSearchQuery, c.req.query());
    const path = workspacePath(c.var.user, query.workspace);
    return c.json(
      await call(
        history.search(c.var.user, {
          query: query.q,
          mode: query.mode,
          limit: query.limit,
          offset: query.offset,
          ...(path ? { workspace_path: path } : {}),
        }),
      ),
    );
  });

  app.get("/api/sessions/:id", async (c) =>
    c.json(await call(history.get(c.var.user, sessionIdParam(c.req.param("id"))))),
  );

  app.patch("/api/sessions/:id", async (c) => {
    const id = sessionIdParam(c.req.param("id"));
    const body = await parseJsonBody(c.req.raw, RenameSessionRequest);
    return c.json(await call(history.rename(c.var.user, id, body.title)));
  });

  app.delete("/api/sessions/:id", async (c) => {
    await call(history.delete(c.var.user, sessionIdParam(c.req.param("id"))));
    return c.body(null, 204);
  });

  app.get("/api/sessions/:id/messages", async (c) => {
    const id = sessionIdParam(c.req.param("id"));
    const query = parseQuery(SessionMessagesQuery, c.req.query());
    return c.json(await call(history.messages(c.var.user, id, query.limit)));
  });
}
