import type { Hono } from "hono";
import { CreateWorkspaceRequest, Workspace } from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import { parseJsonBody } from "../http-errors.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";

const WORKSPACE_TIMEOUT_MS = 10_000;

/** Workspaces: the directories in the user's workspace root, listed and created by the user's runner. */
export function registerWorkspaceRoutes(app: Hono<AppEnv>, runnerFor: (user: MuxUser) => RunnerClient): void {
  app.get("/api/workspaces", async (c) => {
    const runner = runnerFor(c.var.user);
    const result = await runner
      .request("workspace.list", {}, WORKSPACE_TIMEOUT_MS)
      .catch((error: unknown) => {
        throw runnerErrorToApi(error);
      });
    return c.json(Workspace.array().parse((result as { workspaces: unknown }).workspaces));
  });

  app.post("/api/workspaces", async (c) => {
    const body = await parseJsonBody(c.req.raw, CreateWorkspaceRequest);
    const runner = runnerFor(c.var.user);
    const result = await runner
      .request("workspace.create", body, WORKSPACE_TIMEOUT_MS)
      .catch((error: unknown) => {
        throw runnerErrorToApi(error);
      });
    return c.json(Workspace.parse(result), 201);
  });
}
