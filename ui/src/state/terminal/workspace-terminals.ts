import { signal } from "@preact/signals";
import { z } from "zod";
import type { Workspace } from "../../../../src/protocol/index.ts";
import type { MuxClient } from "../../lib/mux-client.ts";
import { newTerminalId, TerminalSession } from "./terminal-session.ts";

/** Per browser tab: a reload re-attaches this tab's terminals, another tab does not steal them. */
const storageKey = (workspace: Workspace) => `oqto.terminals:${workspace.path}`;
const StoredIds = z.array(z.string());

/** The terminal tabs of one workspace. Their ids are kept in sessionStorage until each shell ends. */
export class WorkspaceTerminals {
  readonly sessions = signal<readonly TerminalSession[]>([]);
  readonly active = signal<TerminalSession | null>(null);
  private counter = 0;

  constructor(
    private readonly mux: MuxClient,
    readonly workspace: Workspace,
  ) {
    const restored = this.storedIds().map((id) => this.create(id));
    if (restored.length > 0) {
      this.sessions.value = restored;
      this.active.value = restored[0] ?? null;
      // Re-attach all of them now: a detached shell lives only a minute on the server.
      for (const session of restored) session.start();
    }
  }

  /** Opens a first terminal if there is none. */
  ensureOne(): void {
    if (this.sessions.value.length === 0) this.add();
  }

  add(): TerminalSession {
    const session = this.create(newTerminalId());
    this.sessions.value = [...this.sessions.value, session];
    this.active.value = session;
    this.persist();
    return session;
  }

  select(session: TerminalSession): void {
    this.active.value = session;
  }

  /** A new shell in a tab whose shell ended. */
  restart(session: TerminalSession): void {
    session.restart();
    this.persist();
  }

  close(session: TerminalSession): void {
    const list = this.sessions.value;
    const index = list.indexOf(session);
    session.close();
    const rest = list.filter((s) => s !== session);
    this.sessions.value = rest;
    if (this.active.value === session) this.active.value = rest[Math.min(index, rest.length - 1)] ?? null;
    this.persist();
  }

  /** Sign-out: drop the views; the shells end on the server after their grace period. */
  dispose(): void {
    for (const session of this.sessions.value) session.dispose();
    this.sessions.value = [];
    this.active.value = null;
  }

  private create(id: string): TerminalSession {
    this.counter += 1;
    return new TerminalSession(this.mux, this.workspace.path, id, `Terminal ${this.counter}`, () =>
      this.persist(),
    );
  }

  /** The ids worth re-attaching after a reload: shells that have not ended. */
  private persist(): void {
    const ids = this.sessions.value
      .filter((s) => {
        const state = s.status.value.state;
        return state !== "exited" && state !== "failed";
      })
      .map((s) => s.terminalId);
    if (ids.length > 0) sessionStorage.setItem(storageKey(this.workspace), JSON.stringify(ids));
    else sessionStorage.removeItem(storageKey(this.workspace));
  }

  private storedIds(): string[] {
    try {
      const parsed = StoredIds.safeParse(
        JSON.parse(sessionStorage.getItem(storageKey(this.workspace)) ?? "[]"),
      );
      return parsed.success ? parsed.data : [];
    } catch {
      return [];
    }
  }
}

const registry = new Map<string, WorkspaceTerminals>();

export function terminalsFor(mux: MuxClient, workspace: Workspace): WorkspaceTerminals {
  let terminals = registry.get(workspace.path);
  if (!terminals) {
    terminals = new WorkspaceTerminals(mux, workspace);
    registry.set(workspace.path, terminals);
  }
  return terminals;
}

/** True if this browser tab had terminals in the workspace before a reload. */
export function hasStoredTerminals(workspace: Workspace): boolean {
  return registry.has(workspace.path) || sessionStorage.getItem(storageKey(workspace)) !== null;
}

export function resetTerminals(): void {
  for (const terminals of registry.values()) terminals.dispose();
  registry.clear();
}
