import type { Database } from "bun:sqlite";
import {
  type ConversationRow,
  findConversationById,
  findConversationByKey,
  findConversationByReadableId,
  findLatestInWorkspace,
} from "./conversation-store.ts";
import { requireUuid } from "./request-checks.ts";
import { invalidArgument } from "./rpc-errors.ts";

/** The lookup keys shared by GetConversation, GetMessages and GetMessageEvents. */
export interface LookupFields {
  sourceId: string;
  externalId: string;
  readableId: string;
  conversationId: string;
  workspace: string;
}

/**
 * Resolves the first key given, in the embedded precedence `conversation_id` > `source_id+external_id` >
 * `readable_id` > `workspace` (most recently updated). A key that matches nothing is a miss (null), not a
 * fall-through to the next key; a request without any usable key is INVALID_ARGUMENT.
 */
export function resolveConversation(db: Database, fields: LookupFields): ConversationRow | null {
  if (fields.conversationId !== "") {
    return findConversationById(db, requireUuid(fields.conversationId, "conversation_id"));
  }
  if (fields.sourceId !== "" && fields.externalId !== "") {
    return findConversationByKey(db, fields.sourceId, fields.externalId);
  }
  if (fields.readableId !== "") return findConversationByReadableId(db, fields.readableId);
  if (fields.workspace !== "") return findLatestInWorkspace(db, fields.workspace);
  if (fields.sourceId !== "" || fields.externalId !== "") {
    throw invalidArgument("source_id and external_id must be given together");
  }
  throw invalidArgument(
    "a lookup key is required: conversation_id, source_id+external_id, readable_id or workspace",
  );
}
