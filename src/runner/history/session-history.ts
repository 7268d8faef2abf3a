/**
 * The `history.*` runner methods over the history store: conversations keyed by Oqto session id
 * (hstry `platform_id`), with live state from the session manager (HSTRY.md §5.1, §5.3).
 */
import { rm } from "node:fs/promises";
import type { z } from "zod";
import type { HistorySearchHit, HistoryStore, StoredConversation } from "../../history/history-store.ts";
import {
  type HistoryListParams,
  type HistoryMessagesResult,
  type HistorySearchParams,
  MessageRole,
  ProtocolError,
  type SearchHit,
  type SessionSummary,
} from "../../protocol/index.ts";
import { piSessionIdFromFile } from "../session-files.ts";
import type { SessionManager } from "../session-manager.ts";
import { rebaseMessage } from "./message-ids.ts";
import type { RunnerHistory } from "./runner-history.ts";

/** A miss in the id map re-reads the conversation list at most this often. */
const REFRESH_INTERVAL_MS = 2_000;
const LIST_PAGE = 500;

/** Roles written by other tools, as PROTOCOL.md §1.4 normalises them on import. */
const ROLE_ALIASES: Record<string, MessageRole> = {
  human: "user",
  agent: "assistant",
  ai: "assistant",
  bot: "assistant",
  function: "tool",
  toolResult: "tool",
  tool_result: "tool",
};

export class SessionHistory implements RunnerHistory {
  private readonly store: HistoryStore;
  private readonly sessions: SessionManager;
  /** Oqto session id → pi session id, for conversations the runner's session index does not hold. */
  private readonly piIds = new Map<string, string>();
  /** pi session id → Oqto session id (search hits name only the pi session). */
  private readonly sessionIds = new Map<string, string>();
  private refreshedAt = 0;

  constructor(options: { store: HistoryStore; sessions: SessionManager }) {
    this.store = options.store;
    this.sessions = options.sessions;
  }

  async list(params: z.output<typeof HistoryListParams>): Promise<{ sessions: SessionSummary[] }> {
    const conversations = await this.store.listConversations({
      limit: params.limit,
      offset: params.offset,
      ...(params.workspace_path ? { workspace: params.workspace_path } : {}),
    });
    return { sessions: conversations.map((conversation) => this.summary(conversation)) };
  }

  async get(sessionId: string): Promise<SessionSummary | null> {
    const piSessionId = await this.piSessionIdOf(sessionId);
    if (!piSessionId) return null;
    const conversation = await this.store.getConversation(piSessionId);
    return conversation ? this.summary(conversation, sessionId) : null;
  }

  async messages(sessionId: string, limit?: number): Promise<z.output<typeof HistoryMessagesResult>> {
    // A session the runner knows reads like get_messages: history plus rows not written yet.
    if (this.sessions.knownSession(sessionId)) {
      return { session_id: sessionId, ...(await this.sessions.messages(sessionId, limit)) };
    }
    const piSessionId = await this.piSessionIdOf(sessionId);
    const stored = piSessionId ? await this.store.getMessages(piSessionId, limit ?? 0) : null;
    if (!stored) throw new ProtocolError("session_not_found", `no session ${sessionId}`);
    return {
      session_id: sessionId,
      messages: stored.messages.map((message) => rebaseMessage(message, sessionId)),
      version: stored.version.version,
      message_count: stored.version.messageCount,
    };
  }

  async search(params: z.output<typeof HistorySearchParams>): Promise<{ hits: SearchHit[] }> {
    const hits = await this.store.search({
      query: params.query,
      mode: params.mode,
      limit: params.limit,
      offset: params.offset,
      ...(params.workspace_path ? { workspace: params.workspace_path } : {}),
    });
    const mapped: SearchHit[] = [];
    for (const hit of hits) mapped.push(await this.searchHit(hit));
    return { hits: mapped };
  }

  async rename(sessionId: string, title: string): Promise<void> {
    const known = this.sessions.knownSession(sessionId);
    const piSessionId = await this.piSessionIdOf(sessionId);
    if (!known && !piSessionId) throw new ProtocolError("session_not_found", `no session ${sessionId}`);
    if (piSessionId) {
      try {
        await this.store.updateConversation(piSessionId, { title });
      } catch (error) {
        // A known session history has not seen yet is still renamed (its first write carries the title).
        const missing = error instanceof ProtocolError && error.code === "not_found";
        if (!missing) throw error;
        if (!known) throw new ProtocolError("session_not_found", `no session ${sessionId}`);
      }
    }
    this.sessions.renameSession(sessionId, title);
  }

  async delete(sessionId: string): Promise<void> {
    if (this.sessions.knownSession(sessionId)) {
      await this.sessions.deleteSession(sessionId);
      this.forget(sessionId);
      return;
    }
    const piSessionId = await this.piSessionIdOf(sessionId);
    const conversation = piSessionId ? await this.store.getConversation(piSessionId) : null;
    if (!piSessionId || !conversation)
      throw new ProtocolError("session_not_found", `no session ${sessionId}`);
    await this.store.deleteConversation(piSessionId);
    // Only a file that is demonstrably this pi session's is removed: metadata is not trusted blindly.
    const file = conversation.metadata.pi_session_file;
    if (typeof file === "string" && piSessionIdFromFile(file) === piSessionId)
      await rm(file, { force: true });
    this.forget(sessionId);
  }

  private summary(conversation: StoredConversation, requestedId?: string): SessionSummary {
    const sessionId =
      requestedId ??
      conversation.sessionId ??
      this.sessions.sessionIdForPiSession(conversation.piSessionId) ??
      conversation.piSessionId;
    const parent = conversation.metadata.parent_session_id;
    const live = this.sessions.liveState(sessionId);
    return {
      session_id: sessionId,
      pi_session_id: conversation.piSessionId,
      ...(conversation.title ? { title: conversation.title } : {}),
      ...(conversation.readableId ? { readable_id: conversation.readableId } : {}),
      workspace_path: conversation.workspace ?? "",
      created_at: conversation.createdAt,
      updated_at: conversation.updatedAt,
      ...(conversation.model ? { model: conversation.model } : {}),
      ...(conversation.provider ? { provider: conversation.provider } : {}),
      message_count: conversation.messageCount,
      version: conversation.version,
      ...(typeof parent === "string" ? { parent_session_id: parent } : {}),
      ...(conversation.forkType ? { fork_type: conversation.forkType } : {}),
      ...(conversation.firstUserMessage ? { first_user_message: conversation.firstUserMessage } : {}),
      ...(live ? { live } : {}),
    };
  }

  private async searchHit(hit: HistorySearchHit): Promise<SearchHit> {
    const sessionId = await this.sessionIdOf(hit.piSessionId);
    const role = MessageRole.safeParse(hit.role);
    return {
      session_id: sessionId,
      message_id: `${sessionId}#${hit.idx}`,
      idx: hit.idx,
      role: role.success ? role.data : (ROLE_ALIASES[hit.role] ?? "user"),
      snippet: hit.snippet,
      score: hit.score,
      created_at: hit.createdAt,
      ...(hit.title ? { title: hit.title } : {}),
      ...(hit.workspace ? { workspace_path: hit.workspace } : {}),
    };
  }

  /** The Oqto session of a pi session: the runner's own binding, else the conversation's platform_id. */
  private async sessionIdOf(piSessionId: string): Promise<string> {
    const bound = this.sessions.sessionIdForPiSession(piSessionId) ?? this.sessionIds.get(piSessionId);
    if (bound) return bound;
    const conversation = await this.store.getConversation(piSessionId);
    const sessionId = conversation?.sessionId ?? piSessionId;
    this.remember(sessionId, piSessionId);
    return sessionId;
  }

  /** The pi session of an Oqto session: the runner's index, else history's platform_id map. */
  private async piSessionIdOf(sessionId: string): Promise<string | undefined> {
    const known = this.sessions.knownSession(sessionId)?.pi_session_id ?? this.piIds.get(sessionId);
    if (known) return known;
    if (Date.now() - this.refreshedAt < REFRESH_INTERVAL_MS) return undefined;
    this.refreshedAt = Date.now();
    for (let offset = 0; ; offset += LIST_PAGE) {
      const page = await this.store.listConversations({ limit: LIST_PAGE, offset });
      for (const conversation of page) {
        if (conversation.sessionId) this.remember(conversation.sessionId, conversation.piSessionId);
      }
      if (page.length < LIST_PAGE) break;
    }
    return this.piIds.get(sessionId);
  }

  private remember(sessionId: string, piSessionId: string): void {
    this.piIds.set(sessionId, piSessionId);
    this.sessionIds.set(piSessionId, sessionId);
  }

  private forget(sessionId: string): void {
    const piSessionId = this.piIds.get(sessionId);
    this.piIds.delete(sessionId);
    if (piSessionId) this.sessionIds.delete(piSessionId);
  }
}
