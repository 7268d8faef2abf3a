import { type Signal, signal } from "@preact/signals";
import { api, type WorkspaceSandbox } from "../lib/api.ts";
import { errorText } from "../lib/errors.ts";

/** One workspace's sandbox as last loaded: `view` null until loaded, `error` when loading failed. */
export interface SandboxState {
  view: WorkspaceSandbox | null;
  error: string | null;
}

const states = new Map<string, Signal<SandboxState>>();

/** The sandbox state of a workspace, shared by everything that shows it. */
export function sandboxOf(workspace: string): Signal<SandboxState> {
  let state = states.get(workspace);
  if (!state) {
    state = signal<SandboxState>({ view: null, error: null });
    states.set(workspace, state);
  }
  return state;
}

/** Loads the workspace's sandbox; a broken sandbox file (502) ends up in `error`. */
export async function loadSandbox(workspace: string): Promise<void> {
  const state = sandboxOf(workspace);
  try {
    state.value = { view: await api.getSandbox(workspace), error: null };
  } catch (error) {
    state.value = { view: state.value.view, error: errorText(error) };
  }
}

/** Selects a profile for the workspace; throws the server's message when it is refused. */
export async function applySandboxProfile(workspace: string, profile: string): Promise<void> {
  const view = await api.setSandboxProfile(workspace, profile);
  sandboxOf(workspace).value = { view, error: null };
}

/**
 * The profiles the user may still choose: the one in force and those after it (`profiles` runs
 * from loosest to strictest), so a workspace is only ever made stricter from here.
 */
export function selectableProfiles(view: WorkspaceSandbox): string[] {
  const current = view.profiles.indexOf(view.profile);
  return current < 0 ? view.profiles : view.profiles.slice(current);
}
