import { signal } from "@preact/signals";
import { type SessionState, SYSTEM_SESSION_ID } from "../../../src/protocol/index.ts";
import { type SessionListEntry, SessionListResult } from "../lib/command-results.ts";
import { errorText } from "../lib/errors.ts";
import { mux } from "./connection.ts";

/** Every session of the user (all workspaces), as `list_sessions` reports them. */
export const sessions = signal<SessionListEntry[]>([]);
export const sessionsLoaded = signal(false);
export const sessionsError = signal<string | null>(null);
/** Sessions this tab created that `list_sessions` has not reported yet. */
const createdHere = new Set<string>();

export async function refreshSessions(): Promise<void> {
  try {
    const result = await mux.command(
      { cmd: "list_sessions", session_id: SYSTEM_SESSION_ID },
      SessionListResult,
    );
    // Sessions this tab created but the runner has not listed yet stay visible.
    const listed = new Set(result.sessions.map((s) => s.session_id));
    for (const id of listed) createdHere.delete(id);
    const unlisted = sessions.value.filter((s) => createdHere.has(s.session_id));
    sessions.value = [...result.sessions, ...unlisted];
    sessionsError.value = null;
  } catch (error) {
    sessionsError.value = errorText(error);
  } finally {
    sessionsLoaded.value = true;
  }
}

export function sessionsOfWorkspace(workspacePath: string): SessionListEntry[] {
  return sessions.value
    .filter((s) => s.workspace_path === workspacePath)
    .sort((a, b) => b.last_activity - a.last_activity);
}

/** Shows a session this tab just created before `list_sessions` knows it. */
export function addLocalSession(sessionId: string, workspacePath: string): void {
  const entry: SessionListEntry = {
    session_id: sessionId,
    state: "starting",
    workspace_path: workspacePath,
    last_activity: Date.now(),
    seq: 0,
  };
  createdHere.add(sessionId);
  sessions.value = [entry, ...sessions.value.filter((s) => s.session_id !== sessionId)];
}

/** Mirrors live changes of the open session into its list row without a round trip. */
export function patchSession(sessionId: string, patch: { title?: string; state?: SessionState }): void {
  sessions.value = sessions.value.map((s) =>
    s.session_id === sessionId ? { ...s, ...patch, last_activity: Date.now() } : s,
  );
}
