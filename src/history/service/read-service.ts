import type { Database } from "bun:sqlite";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ReadService } from "../../gen/hstry_service_pb.ts";
import { conversationToProto, listConversations, summaryToProto } from "./conversation-store.ts";
import { resolveConversation } from "./lookup.ts";
import { messageEventToProto, readMessageEvents } from "./message-event-store.ts";
import { messageToProto, readMessages } from "./message-store.ts";
import { requireIndex, toCount } from "./request-checks.ts";

/** ReadService over the history DB; each read runs in one (deferred) transaction for a consistent snapshot. */
export function createReadService(db: Database): ServiceImpl<typeof ReadService> {
  return {
    getConversation(request) {
      return db.transaction(() => {
        const row = resolveConversation(db, request);
        return { conversation: row ? conversationToProto(row) : undefined };
      })();
    },

    getMessages(request) {
      const limit = toCount(request.limit, "limit");
      return db.transaction(() => {
        const row = resolveConversation(db, request);
        if (!row) return { conversationId: "", messages: [] };
        return { conversationId: row.id, messages: readMessages(db, row.id, limit).map(messageToProto) };
      })();
    },

    getMessageEvents(request) {
      const filter = {
        afterIdx: requireIndex(request.afterIdx, "after_idx"),
        afterCreatedAt: toCount(request.afterCreatedAtMs, "after_created_at_ms"),
        limit: toCount(request.limit, "limit"),
      };
      return db.transaction(() => {
        const row = resolveConversation(db, request);
        if (!row) return { conversationId: "", events: [] };
        return {
          conversationId: row.id,
          events: readMessageEvents(db, row.id, filter).map(messageEventToProto),
        };
      })();
    },

    listConversations(request) {
      const filter = {
        sourceId: request.sourceId,
        workspace: request.workspace,
        limit: toCount(request.limit, "limit"),
        offset: toCount(request.offset, "offset"),
      };
      return db.transaction(() => ({ conversations: listConversations(db, filter).map(summaryToProto) }))();
    },
  };
}
