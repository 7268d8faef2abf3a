import type { WorkspaceSandbox } from "../sandbox/workspace-sandbox.ts";
import { assertWorkspaceInRoot } from "../workspaces.ts";
import type { MethodTable } from "./types.ts";

export function sandboxMethods(
  sandbox: WorkspaceSandbox,
  workspaceRoot: string,
): MethodTable<"sandbox.get" | "sandbox.set"> {
  return {
    "sandbox.get": ({ workspace_path }) => sandbox.get(assertWorkspaceInRoot(workspaceRoot, workspace_path)),
    "sandbox.set": ({ workspace_path, profile }) =>
      sandbox.set(assertWorkspaceInRoot(workspaceRoot, workspace_path), profile),
  };
}
