import { z } from "zod";
import {
  HistoryListResult,
  HistoryMessagesResult,
  HistorySearchResult,
  type SearchMode,
  SessionSummary,
} from "../protocol/history.ts";
import {
  AbortAccepted,
  AuthResponse,
  CommandAccepted,
  CreatedApiKey,
  CreatedSession,
  User,
} from "../protocol/rest.ts";
import { Workspace } from "../protocol/runner.ts";
import type { OqtoClient } from "./http-client.ts";

const id = (value: string) => encodeURIComponent(value);

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
}

/** The REST routes the CLI uses (PROTOCOL.md §4.2), each answer parsed with its protocol schema. */
export class OqtoApi {
  constructor(readonly http: OqtoClient) {}

  login(username: string, password: string) {
    return this.http.json("POST", "/api/auth/login", AuthResponse, {
      body: { username, password },
      unauthorized: "wrong username or password (401)",
    });
  }

  me() {
    return this.http.json("GET", "/api/me", User);
  }

  createApiKey(name: string) {
    return this.http.json("POST", "/api/keys", CreatedApiKey, { body: { name } });
  }

  deleteApiKey(keyId: string) {
    return this.http.empty("DELETE", `/api/keys/${id(keyId)}`);
  }

  workspaces() {
    return this.http.json("GET", "/api/workspaces", z.array(Workspace));
  }

  createSession(body: { workspace: string; model?: string; thinking?: string }) {
    return this.http.json("POST", "/api/sessions", CreatedSession, { body });
  }

  prompt(sessionId: string, message: string) {
    return this.http.json("POST", `/api/sessions/${id(sessionId)}/prompt`, CommandAccepted, {
      body: { message, mode: "prompt" },
    });
  }

  abort(sessionId: string) {
    return this.http.json("POST", `/api/sessions/${id(sessionId)}/abort`, AbortAccepted);
  }

  sessions(params: { workspace?: string; limit?: number; offset?: number }) {
    return this.http.json("GET", `/api/sessions${query(params)}`, HistoryListResult);
  }

  session(sessionId: string) {
    return this.http.json("GET", `/api/sessions/${id(sessionId)}`, SessionSummary);
  }

  messages(sessionId: string, limit?: number) {
    return this.http.json(
      "GET",
      `/api/sessions/${id(sessionId)}/messages${query({ limit })}`,
      HistoryMessagesResult,
    );
  }

  search(params: { q: string; workspace?: string; mode?: SearchMode; limit?: number }) {
    return this.http.json("GET", `/api/sessions/search${query(params)}`, HistorySearchResult);
  }

  deleteSession(sessionId: string) {
    return this.http.empty("DELETE", `/api/sessions/${id(sessionId)}`);
  }

  /** The session's event stream (Server-Sent Events), resumed after `after` when given. */
  events(sessionId: string, after: number | undefined, signal: AbortSignal) {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (after !== undefined) headers["last-event-id"] = String(after);
    return this.http.open(`/api/sessions/${id(sessionId)}/events`, headers, signal);
  }
}
