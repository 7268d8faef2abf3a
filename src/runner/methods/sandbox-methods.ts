import type { WorkspaceSandbox } from "../sandbox/workspace-sandbox.ts";
import { resolveOwningWorkspace } from "../workspace-dir.ts";
import type { MethodTable } from "./types.ts";

export function sandboxMethods(
  sandbox: WorkspaceSandbox,
  workspaceRoot: string,
): MethodTable<"sandbox.get" | "sandbox.set"> {
  return {
    "sandbox.get": async ({ workspace_path }) =>
      sandbox.get(await resolveOwningWorkspace(workspaceRoot, workspace_path)),
    "sandbox.set": async ({ workspace_path, profile }) =>
      sandbox.set(await resolveOwningWorkspace(workspaceRoot, workspace_path), profile),
  };
}
