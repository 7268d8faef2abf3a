import { signal } from "@preact/signals";
import type { SessionState, SessionSummary, Workspace } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";

const PAGE_SIZE = 30;
/** A refresh re-reads everything shown, up to the server's page limit. */
const MAX_REFRESH = 500;

/** The state a session's dot shows: its live state, or "closed" for a stored conversation. */
export function sessionState(session: SessionSummary): SessionState {
  return session.live?.state ?? "closed";
}

/** What the list calls a session: its title, else its first message. */
export function sessionLabel(session: SessionSummary): string {
  return session.title ?? session.first_user_message?.split("\n", 1)[0] ?? "New session";
}

/**
 * The conversations of one workspace from history (PROTOCOL.md §4.2 `GET /sessions`), newest
 * first, loaded a page at a time as the list scrolls (`next_offset`).
 */
export class WorkspaceHistory {
  readonly sessions = signal<readonly SessionSummary[]>([]);
  readonly loading = signal(false);
  /** True once the first page arrived (or failed). */
  readonly loaded = signal(false);
  readonly hasMore = signal(false);
  readonly error = signal<string | null>(null);
  private nextOffset = 0;
  /** Bumped by refresh: a page requested before it is stale. */
  private generation = 0;
  /** Sessions this tab created that history has not listed yet. */
  private readonly local = new Map<string, SessionSummary>();

  constructor(readonly workspace: Workspace) {}

  /** Loads the first page if nothing is loaded yet. */
  ensureLoaded(): void {
    if (!this.loaded.value && !this.loading.value) void this.loadMore();
  }

  async loadMore(): Promise<void> {
    if (this.loading.value || (this.loaded.value && !this.hasMore.value)) return;
    await this.fetch(this.nextOffset, PAGE_SIZE, false);
  }

  /** Re-reads the rows shown so far (new sessions, titles, live states). */
  async refresh(): Promise<void> {
    const count = Math.min(MAX_REFRESH, Math.max(PAGE_SIZE, this.nextOffset));
    this.generation += 1;
    await this.fetch(0, count, true);
  }

  /** Shows a session this tab just created, before history lists it. */
  addLocal(sessionId: string): void {
    const now = Date.now();
    const entry: SessionSummary = {
      session_id: sessionId,
      pi_session_id: "",
      workspace_path: this.workspace.path,
      created_at: now,
      updated_at: now,
      message_count: 0,
      version: 0,
      live: { state: "starting", seq: 0 },
    };
    this.local.set(sessionId, entry);
    this.publish([entry, ...this.sessions.value]);
  }

  /** Applies a change to one row, if it is in this list. */
  patch(sessionId: string, change: (session: SessionSummary) => SessionSummary): void {
    const local = this.local.get(sessionId);
    if (local) this.local.set(sessionId, change(local));
    if (!this.sessions.value.some((s) => s.session_id === sessionId)) return;
    this.publish(this.sessions.value.map((s) => (s.session_id === sessionId ? change(s) : s)));
  }

  remove(sessionId: string): void {
    this.local.delete(sessionId);
    this.sessions.value = this.sessions.value.filter((s) => s.session_id !== sessionId);
  }

  private async fetch(offset: number, limit: number, replace: boolean): Promise<void> {
    const generation = this.generation;
    this.loading.value = true;
    try {
      const page = await api.listSessions({ workspace: this.workspace.name, limit, offset });
      if (generation !== this.generation) return;
      for (const session of page.sessions) this.local.delete(session.session_id);
      const kept = replace ? [] : this.sessions.value;
      this.publish([...this.local.values(), ...kept, ...page.sessions]);
      this.nextOffset = page.next_offset ?? offset + page.sessions.length;
      this.hasMore.value = page.next_offset !== undefined;
      this.error.value = null;
    } catch (error) {
      if (generation === this.generation) this.error.value = errorText(error);
    } finally {
      if (generation === this.generation) {
        this.loading.value = false;
        this.loaded.value = true;
      }
    }
  }

  /** Newest first, each session once (a session updated between two pages shows up in both). */
  private publish(list: readonly SessionSummary[]): void {
    const byId = new Map<string, SessionSummary>();
    for (const session of list) if (!byId.has(session.session_id)) byId.set(session.session_id, session);
    this.sessions.value = [...byId.values()].sort((a, b) => b.updated_at - a.updated_at);
  }
}

const histories = new Map<string, WorkspaceHistory>();

/** The history list of a workspace, kept for the life of the page so scrolling back is instant. */
export function historyFor(workspace: Workspace): WorkspaceHistory {
  let history = histories.get(workspace.path);
  if (!history) {
    history = new WorkspaceHistory(workspace);
    histories.set(workspace.path, history);
  }
  return history;
}

/** Forgets every list (sign-out: the next user must not see them). */
export function resetHistories(): void {
  histories.clear();
}

/** Refreshes every list that was loaded (after a reconnect, a fork, a new session). */
export function refreshLoadedHistories(): void {
  for (const history of histories.values()) if (history.loaded.value) void history.refresh();
}

/** Mirrors live changes of an open session into its row, without a round trip. */
export function patchSession(sessionId: string, change: { title?: string; state?: SessionState }): void {
  for (const history of histories.values()) {
    history.patch(sessionId, (session) => ({
      ...session,
      ...(change.title === undefined ? {} : { title: change.title }),
      ...(change.state === undefined
        ? {}
        : { live: { seq: session.live?.seq ?? 0, ...session.live, state: change.state } }),
      updated_at: Date.now(),
    }));
  }
}

export async function renameSession(sessionId: string, title: string): Promise<SessionSummary> {
  const renamed = await api.renameSession(sessionId, title);
  for (const history of histories.values()) history.patch(sessionId, (s) => ({ ...s, title: renamed.title }));
  return renamed;
}

export async function deleteSession(sessionId: string): Promise<void> {
  await api.deleteSession(sessionId);
  for (const history of histories.values()) history.remove(sessionId);
}
