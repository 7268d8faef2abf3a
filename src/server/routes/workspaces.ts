import { join } from "node:path";
import type { Hono } from "hono";
import {
  CreateWorkspaceRequest,
  SandboxView,
  SetSandboxRequest,
  Workspace,
  WorkspaceName,
} from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import { ApiError, parseJsonBody } from "../http-errors.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";

const WORKSPACE_TIMEOUT_MS = 10_000;

/** Workspaces: the directories in the user's workspace root, listed and created by the user's runner. */
export function registerWorkspaceRoutes(
  app: Hono<AppEnv>,
  runnerFor: (user: MuxUser) => RunnerClient,
  workspaceRootFor: (user: MuxUser) => string,
): void {
  const workspacePath = (user: MuxUser, raw: string) => {
    const name = WorkspaceName.safeParse(raw);
    if (!name.success) throw new ApiError("BAD_REQUEST", "invalid workspace name");
    return join(workspaceRootFor(user), name.data);
  };

  // The sandbox profile a workspace runs under; PUT may only select a stricter one.
  app.get("/api/workspaces/:name/sandbox", async (c) => {
    const params = { workspace_path: workspacePath(c.var.user, c.req.param("name")) };
    const result = await runnerFor(c.var.user)
      .request("sandbox.get", params, WORKSPACE_TIMEOUT_MS)
      .catch((error: unknown) => {
        throw runnerErrorToApi(error);
      });
    return c.json(SandboxView.parse(result));
  });

  app.put("/api/workspaces/:name/sandbox", async (c) => {
    const path = workspacePath(c.var.user, c.req.param("name"));
    const body = await parseJsonBody(c.req.raw, SetSandboxRequest);
    const result = await runnerFor(c.var.user)
      .request("sandbox.set", { workspace_path: path, profile: body.profile }, WORKSPACE_TIMEOUT_MS)
      .catch((error: unknown) => {
        throw runnerErrorToApi(error);
      });
    return c.json(SandboxView.parse(result));
  });

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
