import type { Database } from "bun:sqlite";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Conversation, Message, WriteService } from "../../gen/hstry_service_pb.ts";
import { insertAttachment } from "./attachment-store.ts";
import {
  type ConversationChanges,
  type ConversationInput,
  deleteConversation,
  ensureSource,
  findConversationById,
  findConversationByKey,
  recordMutation,
  updateConversation,
  upsertConversation,
} from "./conversation-store.ts";
import { findMessageConversation, type MessageInput, upsertMessages } from "./message-store.ts";
import {
  metadataColumn,
  partsColumn,
  requireFiniteCost,
  requireForkType,
  requireIndex,
  requireText,
  requireUuid,
  senderColumn,
  toCount,
  toOptionalCount,
} from "./request-checks.ts";
import { invalidArgument, notFound } from "./rpc-errors.ts";
import { addTag, removeTag } from "./tag-store.ts";

/** `""` clears `readable_id` / `platform_id` rather than storing an id nobody can look up. */
const idOrNull = (value: string | undefined): string | null => (value ? value : null);

function optionalUuid(value: string | undefined, field: string): string | null {
  return value ? requireUuid(value, field) : null;
}

function conversationInput(conversation: Conversation): ConversationInput {
  const createdAt = toCount(conversation.createdAtMs, "conversation.created_at_ms");
  return {
    source_id: requireText(conversation.sourceId, "conversation.source_id"),
    external_id: requireText(conversation.externalId, "conversation.external_id"),
    readable_id: idOrNull(conversation.readableId),
    platform_id: idOrNull(conversation.platformId),
    title: conversation.title ?? null,
    created_at: createdAt > 0 ? createdAt : null,
    updated_at: toOptionalCount(conversation.updatedAtMs, "conversation.updated_at_ms"),
    model: conversation.model ?? null,
    provider: conversation.provider ?? null,
    workspace: conversation.workspace ?? null,
    harness: conversation.harness ?? null,
    tokens_in: toOptionalCount(conversation.tokensIn, "conversation.tokens_in"),
    tokens_out: toOptionalCount(conversation.tokensOut, "conversation.tokens_out"),
    cost_usd: requireFiniteCost(conversation.costUsd, "conversation.cost_usd"),
    metadata: metadataColumn(conversation.metadataJson, "conversation.metadata_json"),
    parent_conversation_id: optionalUuid(
      conversation.parentConversationId,
      "conversation.parent_conversation_id",
    ),
    parent_message_idx:
      conversation.parentMessageIdx === undefined
        ? null
        : requireIndex(conversation.parentMessageIdx, "conversation.parent_message_idx"),
    fork_type: requireForkType(conversation.forkType),
  };
}

function messageInput(message: Message, position: number): MessageInput {
  const field = (name: string) => `messages[${position}].${name}`;
  return {
    idx: requireIndex(message.idx, field("idx")),
    role: requireText(message.role, field("role")),
    content: message.content,
    parts_json: partsColumn(message.partsJson, field("parts_json")),
    created_at: toOptionalCount(message.createdAtMs, field("created_at_ms")),
    model: message.model ?? null,
    provider: message.provider ?? null,
    harness: message.harness ?? null,
    tokens: toOptionalCount(message.tokens, field("tokens")),
    cost_usd: requireFiniteCost(message.costUsd, field("cost_usd")),
    metadata: metadataColumn(message.metadataJson, field("metadata_json")),
    sender_json: senderColumn(message.senderJson, field("sender_json")),
    client_id: message.clientId ?? null,
  };
}

function requireConversation(db: Database, sourceId: string, externalId: string) {
  const row = findConversationByKey(
    db,
    requireText(sourceId, "source_id"),
    requireText(externalId, "external_id"),
  );
  if (!row) throw notFound(`no conversation ${sourceId}/${externalId}`);
  return row;
}

/**
 * Adds or removes one tag of a conversation; a change bumps the conversation's version without
 * touching its messages. Returns whether anything changed.
 */
function changeTag(
  db: Database,
  request: { conversationId: string; tag: string },
  change: (db: Database, conversationId: string, tag: string) => boolean,
): boolean {
  const conversationId = requireUuid(request.conversationId, "conversation_id");
  const tag = requireText(request.tag, "tag").trim();
  return db
    .transaction(() => {
      if (!findConversationById(db, conversationId)) throw notFound(`no conversation ${conversationId}`);
      const changed = change(db, conversationId, tag);
      if (changed) recordMutation(db, conversationId, { messagesChanged: false, updatedAt: null });
      return changed;
    })
    .immediate();
}

/** WriteService over the history DB. Requests are validated before, and applied inside, one transaction. */
export function createWriteService(db: Database): ServiceImpl<typeof WriteService> {
  return {
    writeConversation(request) {
      if (!request.conversation) throw invalidArgument("conversation is required");
      const input = conversationInput(request.conversation);
      const messages = request.messages.map(messageInput);
      return db
        .transaction(() => {
          ensureSource(db, input.source_id);
          const id = upsertConversation(db, input, Date.now());
          upsertMessages(db, id, messages);
          const after = recordMutation(db, id, { messagesChanged: true, updatedAt: null });
          return {
            conversationId: id,
            messagesWritten: messages.length,
            version: BigInt(after.version),
            messageCount: after.message_count,
          };
        })
        .immediate();
    },

    appendMessages(request) {
      const messages = request.messages.map(messageInput);
      const updatedAt = toOptionalCount(request.updatedAtMs, "updated_at_ms") ?? Date.now();
      return db
        .transaction(() => {
          const { id } = requireConversation(db, request.sourceId, request.externalId);
          upsertMessages(db, id, messages);
          const after = recordMutation(db, id, { messagesChanged: true, updatedAt });
          return {
            conversationId: id,
            messagesWritten: messages.length,
            version: BigInt(after.version),
            messageCount: after.message_count,
          };
        })
        .immediate();
    },

    updateConversation(request) {
      const changes: ConversationChanges = {
        title: request.title,
        workspace: request.workspace,
        model: request.model,
        provider: request.provider,
        metadata: request.metadataJson === undefined ? undefined : metadataColumn(request.metadataJson),
        readable_id: request.readableId === undefined ? undefined : idOrNull(request.readableId),
        harness: request.harness,
        platform_id: request.platformId === undefined ? undefined : idOrNull(request.platformId),
        parent_conversation_id:
          request.parentConversationId === undefined
            ? undefined
            : optionalUuid(request.parentConversationId, "parent_conversation_id"),
        parent_message_idx:
          request.parentMessageIdx === undefined
            ? undefined
            : requireIndex(request.parentMessageIdx, "parent_message_idx"),
        fork_type: request.forkType === undefined ? undefined : requireForkType(request.forkType),
      };
      return db
        .transaction(() => {
          const { id } = requireConversation(db, request.sourceId, request.externalId);
          updateConversation(db, id, changes);
          recordMutation(db, id, { messagesChanged: false, updatedAt: null });
          return { conversationId: id };
        })
        .immediate();
    },

    deleteConversation(request) {
      return db
        .transaction(() => {
          const { id } = requireConversation(db, request.sourceId, request.externalId);
          deleteConversation(db, id);
          return { conversationId: id };
        })
        .immediate();
    },

    addTag: (request) => ({ added: changeTag(db, request, addTag) }),

    removeTag: (request) => ({ removed: changeTag(db, request, removeTag) }),

    uploadAttachment(request) {
      const messageId = requireUuid(request.messageId, "message_id");
      const mimeType = requireText(request.mimeType, "mime_type");
      return db
        .transaction(() => {
          const conversationId = findMessageConversation(db, messageId);
          if (!conversationId) throw notFound(`no message ${messageId}`);
          const attachmentId = insertAttachment(
            db,
            { messageId, mimeType, filename: request.filename ?? null, content: request.data },
            Date.now(),
          );
          recordMutation(db, conversationId, { messagesChanged: false, updatedAt: null });
          return { attachmentId };
        })
        .immediate();
    },
  };
}
