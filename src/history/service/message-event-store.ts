import type { Database } from "bun:sqlite";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { MessageEventSchema } from "../../gen/hstry_service_pb.ts";

/** `message_events` rows (per-message event logs an hstry importer may keep; Oqto v1 writes none). */
interface MessageEventRow {
  id: string;
  conversation_id: string;
  idx: number;
  payload_json: string;
  created_at: number;
  metadata: string;
}

/** Events after a position; 0 means "from the start" for both cursors, as everywhere on this wire. */
export function readMessageEvents(
  db: Database,
  conversationId: string,
  filter: { afterIdx: number; afterCreatedAt: number; limit: number },
): MessageEventRow[] {
  return db
    .query<MessageEventRow, Record<string, string | number>>(
      `SELECT id, conversation_id, idx, payload_json, created_at, metadata FROM message_events
       WHERE conversation_id = $conversation_id
         AND ($after_idx = 0 OR idx > $after_idx)
         AND ($after_created_at = 0 OR created_at > $after_created_at)
       ORDER BY idx, created_at, id LIMIT $limit`,
    )
    .all({
      conversation_id: conversationId,
      after_idx: filter.afterIdx,
      after_created_at: filter.afterCreatedAt,
      limit: filter.limit > 0 ? filter.limit : -1,
    });
}

export function messageEventToProto(row: MessageEventRow): MessageInitShape<typeof MessageEventSchema> {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    idx: row.idx,
    payloadJson: row.payload_json,
    createdAtMs: BigInt(row.created_at),
    metadataJson: row.metadata,
  };
}
