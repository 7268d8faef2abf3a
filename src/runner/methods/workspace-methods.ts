import type { WorkspaceService } from "../workspaces.ts";
import type { MethodTable } from "./types.ts";

export function workspaceMethods(
  workspaces: WorkspaceService,
): MethodTable<"workspace.list" | "workspace.create"> {
  return {
    "workspace.list": async () => ({ workspaces: await workspaces.list() }),
    "workspace.create": ({ name, display_name }) => workspaces.create(name, display_name),
  };
}
