import { signal } from "@preact/signals";
import type { Workspace } from "../../../src/protocol/index.ts";
import { api } from "../lib/api.ts";
import { errorText } from "../lib/errors.ts";

export const workspaces = signal<Workspace[] | null>(null);
export const workspacesError = signal<string | null>(null);

export async function loadWorkspaces(): Promise<void> {
  try {
    const list = await api.listWorkspaces();
    workspaces.value = [...list].sort((a, b) => a.name.localeCompare(b.name));
    workspacesError.value = null;
  } catch (error) {
    workspacesError.value = errorText(error);
  }
}

/** Creates a workspace directory under the user's root; throws the server's error message on failure. */
export async function createWorkspace(name: string): Promise<Workspace> {
  const created = await api.createWorkspace(name);
  await loadWorkspaces();
  return created;
}

export function findWorkspace(name: string): Workspace | undefined {
  return workspaces.value?.find((w) => w.name === name);
}
