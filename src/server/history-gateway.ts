import type { z } from "zod";
import {
  HistoryGetResult,
  type HistoryListParams,
  HistoryListResult,
  HistoryMessagesResult,
  type HistorySearchParams,
  HistorySearchResult,
  ProtocolError,
  type RunnerMethod,
  type RunnerParams,
  type SessionSummary,
} from "../protocol/index.ts";
import type { SessionOwnership } from "./mux/agent-channel.ts";
import type { MuxUser } from "./mux/mux-connection.ts";
import type { RunnerClient } from "./runner/runner-client.ts";
import { assertInWorkspaceRoot } from "./workspace-scope.ts";

const HISTORY_TIMEOUT_MS = 10_000;
type HistoryMethod = Extract<RunnerMethod, `history.${string}`>;
/** Pages fetched from the runner at most to fill one page of the caller's own sessions. */
const MAX_FILL_ROUNDS = 20;

export interface HistoryGatewayOptions {
  runnerFor: (user: MuxUser) => RunnerClient;
  ownership: SessionOwnership;
  workspaceRootFor: (user: MuxUser) => string;
}

/**
 * History reads and edits for one user, through that user's runner. A runner (single-user mode)
 * may hold several platform users' conversations: everything is filtered to the caller's own
 * sessions, and paging continues until a page is full so that `next_offset` stays correct.
 */
export class HistoryGateway {
  constructor(private readonly options: HistoryGatewayOptions) {}

  async list(
    user: MuxUser,
    params: z.output<typeof HistoryListParams>,
  ): Promise<{ sessions: SessionSummary[]; next_offset?: number }> {
    if (params.workspace_path) this.checkWorkspace(user, params.workspace_path);
    return this.fill(
      params.limit,
      params.offset,
      async (offset, limit) => {
        const raw = await this.request(user, "history.list", { ...params, offset, limit });
        return HistoryListResult.parse(raw).sessions;
      },
      (s) => this.owns(user, s.session_id),
    ).then(({ items, next_offset }) => ({
      sessions: items,
      ...(next_offset === undefined ? {} : { next_offset }),
    }));
  }

  async search(user: MuxUser, params: z.output<typeof HistorySearchParams>) {
    if (params.workspace_path) this.checkWorkspace(user, params.workspace_path);
    const { items, next_offset } = await this.fill(
      params.limit,
      params.offset,
      async (offset, limit) => {
        const raw = await this.request(user, "history.search", { ...params, offset, limit });
        return HistorySearchResult.parse(raw).hits;
      },
      (hit) => this.owns(user, hit.session_id),
    );
    return { hits: items, ...(next_offset === undefined ? {} : { next_offset }) };
  }

  async get(user: MuxUser, sessionId: string): Promise<SessionSummary> {
    this.checkOwner(user, sessionId);
    const { session } = HistoryGetResult.parse(
      await this.request(user, "history.get", { session_id: sessionId }),
    );
    if (!session) throw new ProtocolError("session_not_found", `no session ${sessionId}`);
    return session;
  }

  async messages(user: MuxUser, sessionId: string, limit?: number) {
    this.checkOwner(user, sessionId);
    const params = limit === undefined ? { session_id: sessionId } : { session_id: sessionId, limit };
    return HistoryMessagesResult.parse(await this.request(user, "history.messages", params));
  }

  async rename(user: MuxUser, sessionId: string, title: string): Promise<SessionSummary> {
    this.checkOwner(user, sessionId);
    await this.request(user, "history.rename", { session_id: sessionId, title });
    return this.get(user, sessionId);
  }

  async delete(user: MuxUser, sessionId: string): Promise<void> {
    this.checkOwner(user, sessionId);
    await this.request(user, "history.delete", { session_id: sessionId });
  }

  private owns(user: MuxUser, sessionId: string): boolean {
    return this.options.ownership.owner(sessionId) === user.id;
  }

  /** Another user's session and a missing one look the same: not found. */
  private checkOwner(user: MuxUser, sessionId: string): void {
    if (!this.owns(user, sessionId)) throw new ProtocolError("session_not_found", `no session ${sessionId}`);
  }

  private checkWorkspace(user: MuxUser, workspacePath: string): void {
    assertInWorkspaceRoot(this.options.workspaceRootFor(user), workspacePath, true);
  }

  private request(
    user: MuxUser,
    method: HistoryMethod,
    params: RunnerParams<HistoryMethod>,
  ): Promise<unknown> {
    return this.options.runnerFor(user).request(method, params as never, HISTORY_TIMEOUT_MS);
  }

  /** Reads runner pages from `offset` until `limit` owned items are collected or the runner has no more. */
  private async fill<T>(
    limit: number,
    offset: number,
    page: (offset: number, limit: number) => Promise<T[]>,
    keep: (item: T) => boolean,
  ): Promise<{ items: T[]; next_offset?: number }> {
    const items: T[] = [];
    let cursor = offset;
    for (let round = 0; round < MAX_FILL_ROUNDS; round++) {
      const batch = await page(cursor, limit);
      for (const [i, item] of batch.entries()) {
        if (!keep(item)) continue;
        items.push(item);
        if (items.length === limit) return { items, next_offset: cursor + i + 1 };
      }
      cursor += batch.length;
      if (batch.length < limit) return { items };
    }
    return { items, next_offset: cursor };
  }
}
