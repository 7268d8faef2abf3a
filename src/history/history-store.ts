import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Conversation, ConversationSchema, SearchHit } from "../gen/hstry_service_pb.ts";
import { SearchMode } from "../gen/hstry_service_pb.ts";
import { ProtocolError } from "../protocol/common.ts";
import type { Message } from "../protocol/message.ts";
import type { HistoryClient } from "./client.ts";
import { fromHstryMessage, toHstryMessage } from "./message-mapping.ts";

/** Oqto's conversations live under this hstry source (HSTRY.md §5.1). */
export const PI_SOURCE_ID = "pi";
const PI_HARNESS = "pi";

/** Everything Oqto knows about a conversation when it writes one (HSTRY.md §5.2). */
export interface ConversationRecord {
  /** pi session id (hstry `external_id`). */
  piSessionId: string;
  /** Oqto session id (hstry `platform_id`); message ids are `<sessionId>#<idx>`. */
  sessionId: string;
  workspace: string;
  /** ms, from the pi session header. */
  createdAt: number;
  title?: string;
  readableId?: string;
  model?: string;
  provider?: string;
  /** `oqto_user_id`, `pi_session_file`. */
  metadata?: Record<string, unknown>;
  /** Fork lineage: the parent's hstry conversation id and the forked message's idx. */
  parent?: { conversationId: string; messageIdx: number };
  totals?: { tokensIn: number; tokensOut: number; costUsd: number };
}

export type ConversationChanges = Partial<
  Pick<
    ConversationRecord,
    "title" | "readableId" | "workspace" | "model" | "provider" | "metadata" | "sessionId"
  >
>;

/** Version counter and message count after a write (`agent.idle.message_version`). */
export interface MessageVersion {
  version: number;
  messageCount: number;
}

export interface StoredConversation {
  piSessionId: string;
  sessionId?: string;
  title?: string;
  readableId?: string;
  workspace?: string;
  createdAt: number;
  updatedAt: number;
  model?: string;
  provider?: string;
  metadata: Record<string, unknown>;
  version: number;
  messageCount: number;
  /** Only in list results. */
  firstUserMessage?: string;
  parentConversationId?: string;
  parentMessageIdx?: number;
  forkType?: string;
}

export interface HistorySearchHit {
  piSessionId: string;
  conversationId: string;
  idx: number;
  role: string;
  snippet: string;
  score: number;
  createdAt: number;
  title?: string;
  workspace?: string;
}

export type HistorySearchMode = "auto" | "natural" | "code";

/** The history operations Oqto uses (HSTRY.md §5.3), over canonical messages. */
export interface HistoryStore {
  /** Creates the conversation or re-binds it to `sessionId`; returns the next message idx. */
  ensureConversation(record: ConversationRecord): Promise<{ conversationId: string; nextIdx: number }>;
  /** Positional, idempotent append; recreates the conversation when hstry does not know it. */
  appendMessages(
    record: ConversationRecord,
    messages: Message[],
    updatedAt?: number,
  ): Promise<MessageVersion>;
  /** Creates (or overwrites) a conversation with its first rows, e.g. a fork with the parent's prefix. */
  writeConversation(record: ConversationRecord, messages: Message[]): Promise<MessageVersion>;
  updateConversation(piSessionId: string, changes: ConversationChanges): Promise<void>;
  /** false when there was nothing to delete. */
  deleteConversation(piSessionId: string): Promise<boolean>;
  getConversation(piSessionId: string): Promise<StoredConversation | null>;
  /** The last `limit` messages (all when 0), with the version they were read at; null for an unknown conversation. */
  getMessages(
    piSessionId: string,
    limit?: number,
  ): Promise<{ conversationId: string; messages: Message[]; version: MessageVersion } | null>;
  listConversations(options: {
    workspace?: string;
    limit: number;
    offset: number;
  }): Promise<StoredConversation[]>;
  search(options: {
    query: string;
    workspace?: string;
    mode?: HistorySearchMode;
    limit?: number;
    offset?: number;
  }): Promise<HistorySearchHit[]>;
}

/** Transport failures become `history_unavailable` (retryable); hstry's verdicts keep their meaning. */
function toProtocolError(what: string, error: unknown): ProtocolError {
  const connectError = ConnectError.from(error);
  const message = `history ${what}: ${connectError.rawMessage}`;
  if (connectError.code === Code.InvalidArgument) return new ProtocolError("invalid_request", message);
  if (connectError.code === Code.NotFound) return new ProtocolError("not_found", message);
  return new ProtocolError("history_unavailable", message);
}

async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toProtocolError(what, error);
  }
}

const isNotFound = (error: unknown) => ConnectError.from(error).code === Code.NotFound;

function toConversation(record: ConversationRecord): MessageInitShape<typeof ConversationSchema> {
  return {
    sourceId: PI_SOURCE_ID,
    externalId: record.piSessionId,
    platformId: record.sessionId,
    harness: PI_HARNESS,
    workspace: record.workspace,
    createdAtMs: BigInt(Math.round(record.createdAt)),
    title: record.title,
    readableId: record.readableId,
    model: record.model,
    provider: record.provider,
    metadataJson: JSON.stringify(record.metadata ?? {}),
    parentConversationId: record.parent?.conversationId,
    parentMessageIdx: record.parent?.messageIdx,
    forkType: record.parent ? "fork" : undefined,
    tokensIn: record.totals ? BigInt(record.totals.tokensIn) : undefined,
    tokensOut: record.totals ? BigInt(record.totals.tokensOut) : undefined,
    costUsd: record.totals?.costUsd,
  };
}

function parseMetadata(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text || "{}");
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function fromConversation(conversation: Conversation, firstUserMessage?: string): StoredConversation {
  return {
    piSessionId: conversation.externalId,
    sessionId: conversation.platformId,
    title: conversation.title,
    readableId: conversation.readableId,
    workspace: conversation.workspace,
    createdAt: Number(conversation.createdAtMs),
    updatedAt: Number(conversation.updatedAtMs ?? conversation.createdAtMs),
    model: conversation.model,
    provider: conversation.provider,
    metadata: parseMetadata(conversation.metadataJson),
    version: Number(conversation.version),
    messageCount: conversation.messageCount,
    firstUserMessage,
    parentConversationId: conversation.parentConversationId,
    parentMessageIdx: conversation.parentMessageIdx,
    forkType: conversation.forkType,
  };
}

function fromSearchHit(hit: SearchHit): HistorySearchHit {
  return {
    piSessionId: hit.externalId,
    conversationId: hit.conversationId,
    idx: hit.messageIdx,
    role: hit.role,
    snippet: hit.snippet,
    score: hit.score,
    createdAt: Number(hit.createdAtMs),
    title: hit.title || undefined,
    workspace: hit.workspace || undefined,
  };
}

const SEARCH_MODES: Record<HistorySearchMode, SearchMode> = {
  auto: SearchMode.AUTO,
  natural: SearchMode.NATURAL,
  code: SearchMode.CODE,
};

/** HistoryStore over an hstry gRPC client (embedded or external service alike). */
export function createHistoryStore(client: HistoryClient): HistoryStore {
  const writeConversation = async (record: ConversationRecord, messages: Message[]) => {
    const response = await call("write", () =>
      client.write.writeConversation({
        conversation: toConversation(record),
        messages: messages.map(toHstryMessage),
      }),
    );
    return {
      conversationId: response.conversationId,
      version: { version: Number(response.version), messageCount: response.messageCount },
    };
  };

  return {
    async ensureConversation(record) {
      const { conversation } = await call("get", () =>
        client.read.getConversation({ sourceId: PI_SOURCE_ID, externalId: record.piSessionId }),
      );
      if (!conversation) {
        const written = await writeConversation(record, []);
        return { conversationId: written.conversationId, nextIdx: 0 };
      }
      const updated = await call("update", () =>
        client.write.updateConversation({
          sourceId: PI_SOURCE_ID,
          externalId: record.piSessionId,
          platformId: record.sessionId,
          workspace: record.workspace,
          model: record.model,
          provider: record.provider,
          harness: PI_HARNESS,
        }),
      );
      return { conversationId: updated.conversationId, nextIdx: conversation.messageCount };
    },

    async appendMessages(record, messages, updatedAt = Date.now()) {
      const rows = messages.map(toHstryMessage);
      try {
        const response = await client.write.appendMessages({
          sourceId: PI_SOURCE_ID,
          externalId: record.piSessionId,
          messages: rows,
          updatedAtMs: BigInt(Math.round(updatedAt)),
        });
        return { version: Number(response.version), messageCount: response.messageCount };
      } catch (error) {
        if (!isNotFound(error)) throw toProtocolError("append", error);
      }
      return (await writeConversation(record, messages)).version;
    },

    async writeConversation(record, messages) {
      return (await writeConversation(record, messages)).version;
    },

    async updateConversation(piSessionId, changes) {
      await call("update", () =>
        client.write.updateConversation({
          sourceId: PI_SOURCE_ID,
          externalId: piSessionId,
          title: changes.title,
          readableId: changes.readableId,
          workspace: changes.workspace,
          model: changes.model,
          provider: changes.provider,
          platformId: changes.sessionId,
          metadataJson: changes.metadata === undefined ? undefined : JSON.stringify(changes.metadata),
        }),
      );
    },

    async deleteConversation(piSessionId) {
      try {
        await client.write.deleteConversation({ sourceId: PI_SOURCE_ID, externalId: piSessionId });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw toProtocolError("delete", error);
      }
    },

    async getConversation(piSessionId) {
      const response = await call("get", () =>
        client.read.getConversation({ sourceId: PI_SOURCE_ID, externalId: piSessionId }),
      );
      return response.conversation ? fromConversation(response.conversation) : null;
    },

    async getMessages(piSessionId, limit = 0) {
      const key = { sourceId: PI_SOURCE_ID, externalId: piSessionId };
      // The version is read first: the messages that follow are at least that new.
      const { conversation } = await call("get", () => client.read.getConversation(key));
      if (!conversation) return null;
      const response = await call("messages", () =>
        client.read.getMessages({ ...key, limit: BigInt(Math.max(0, Math.floor(limit))) }),
      );
      const sessionId = conversation.platformId || piSessionId;
      return {
        conversationId: response.conversationId,
        messages: response.messages.map((row) => fromHstryMessage(row, sessionId)),
        version: { version: Number(conversation.version), messageCount: conversation.messageCount },
      };
    },

    async listConversations(options) {
      const response = await call("list", () =>
        client.read.listConversations({
          sourceId: PI_SOURCE_ID,
          workspace: options.workspace ?? "",
          limit: BigInt(options.limit),
          offset: BigInt(options.offset),
        }),
      );
      return response.conversations.flatMap((summary) =>
        summary.conversation ? [fromConversation(summary.conversation, summary.firstUserMessage)] : [],
      );
    },

    async search(options) {
      const response = await call("search", () =>
        client.search.search({
          query: options.query,
          source: PI_SOURCE_ID,
          workspace: options.workspace ?? "",
          mode: SEARCH_MODES[options.mode ?? "auto"],
          limit: BigInt(options.limit ?? 0),
          offset: BigInt(options.offset ?? 0),
        }),
      );
      return response.hits.map(fromSearchHit);
    },
  };
}
