/** Session lists: `list_sessions` (every known session) and `runner.status` (the running ones). */
import type { AgentPhase, SessionState } from "../protocol/common.ts";
import type { RunningSession } from "../protocol/runner.ts";
import type { Session } from "./session.ts";
import type { SessionIndex } from "./session-index.ts";

/** A running session as `runner.status` reports it (the schema lives in the protocol). */
export type SessionStatus = RunningSession;

export interface SessionListing {
  session_id: string;
  state: SessionState;
  phase?: AgentPhase;
  workspace_path: string;
  provider?: string;
  model?: string;
  pi_session_id?: string;
  title?: string;
  last_activity: number;
  subscriber_count: number;
  seq: number;
}

/** Sessions with a pi process. */
export function runningSessions(sessions: Iterable<Session>): SessionStatus[] {
  const running: SessionStatus[] = [];
  for (const s of sessions) {
    if (!s.isRunning) continue;
    running.push({
      session_id: s.id,
      state: s.state,
      ...(s.phase ? { phase: s.phase } : {}),
      workspace_path: s.workspacePath,
      ...(s.piSessionId ? { pi_session_id: s.piSessionId } : {}),
      ...(s.pid === undefined ? {} : { pid: s.pid }),
      seq: s.seq,
      epoch: s.epoch,
    });
  }
  return running;
}

/** Every indexed session, with the live state of those in memory; the most recently active first. */
export function listSessions(
  index: SessionIndex,
  sessions: Iterable<Session>,
): { sessions: SessionListing[] } {
  const listed = new Map<string, SessionListing>();
  for (const record of index.list()) {
    listed.set(record.session_id, {
      session_id: record.session_id,
      state: "closed",
      workspace_path: record.workspace_path,
      ...(record.provider ? { provider: record.provider } : {}),
      ...(record.model ? { model: record.model } : {}),
      ...(record.pi_session_id ? { pi_session_id: record.pi_session_id } : {}),
      ...(record.title ? { title: record.title } : {}),
      last_activity: record.last_activity,
      subscriber_count: 0,
      seq: 0,
    });
  }
  for (const s of sessions) {
    listed.set(s.id, {
      session_id: s.id,
      state: s.state,
      ...(s.phase ? { phase: s.phase } : {}),
      workspace_path: s.workspacePath,
      ...(s.provider ? { provider: s.provider } : {}),
      ...(s.model ? { model: s.model } : {}),
      ...(s.piSessionId ? { pi_session_id: s.piSessionId } : {}),
      ...(s.title ? { title: s.title } : {}),
      last_activity: s.lastActivity,
      subscriber_count: s.subscribed ? 1 : 0,
      seq: s.seq,
    });
  }
  return { sessions: [...listed.values()].sort((a, b) => b.last_activity - a.last_activity) };
}
