import type { Database } from "bun:sqlite";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { MessageSchema } from "../../gen/hstry_service_pb.ts";

/** A `messages` row as SQLite returns it (without the internal `pk`). */
export interface MessageRow {
  id: string;
  conversation_id: string;
  idx: number;
  role: string;
  content: string;
  parts_json: string;
  created_at: number | null;
  model: string | null;
  provider: string | null;
  harness: string | null;
  tokens: number | null;
  cost_usd: number | null;
  metadata: string;
  sender_json: string;
  client_id: string | null;
}

/** The validated columns of one request message. */
export type MessageInput = Omit<MessageRow, "id" | "conversation_id">;

const COLUMNS =
  "id, conversation_id, idx, role, content, parts_json, created_at, model, provider, harness, tokens, cost_usd, metadata, sender_json, client_id";

/** Columns a repeated idx overwrites; compared first so an identical retry rewrites nothing (and leaves FTS alone). */
const OVERWRITTEN = [
  "role",
  "content",
  "parts_json",
  "created_at",
  "model",
  "provider",
  "harness",
  "tokens",
  "cost_usd",
  "metadata",
  "sender_json",
  "client_id",
] as const;

const UPSERT_SQL = `INSERT INTO messages (${COLUMNS}) VALUES (
    $id, $conversation_id, $idx, $role, $content, $parts_json, $created_at, $model, $provider, $harness, $tokens,
    $cost_usd, $metadata, $sender_json, $client_id)
  ON CONFLICT (conversation_id, idx) DO UPDATE SET
    ${OVERWRITTEN.map((column) => `${column} = excluded.${column}`).join(", ")}
  WHERE ${OVERWRITTEN.map((column) => `${column} IS NOT excluded.${column}`).join(" OR ")}`;

/** Positional upsert on `(conversation_id, idx)`; rows not named are kept. */
export function upsertMessages(db: Database, conversationId: string, messages: MessageInput[]): void {
  const statement = db.query(UPSERT_SQL);
  for (const message of messages) {
    statement.run({ ...message, id: crypto.randomUUID(), conversation_id: conversationId });
  }
}

/** `limit > 0`: the last N by idx, read backwards on the unique index and returned ascending. */
export function readMessages(db: Database, conversationId: string, limit: number): MessageRow[] {
  if (limit > 0) {
    return db
      .query<MessageRow, [string, number]>(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY idx DESC LIMIT ?`,
      )
      .all(conversationId, limit)
      .reverse();
  }
  return db
    .query<MessageRow, [string]>(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY idx`)
    .all(conversationId);
}

export function findMessageConversation(db: Database, messageId: string): string | null {
  const row = db
    .query<{ conversation_id: string }, [string]>("SELECT conversation_id FROM messages WHERE id = ?")
    .get(messageId);
  return row?.conversation_id ?? null;
}

const optional = <T>(value: T | null): T | undefined => value ?? undefined;

export function messageToProto(row: MessageRow): MessageInitShape<typeof MessageSchema> {
  return {
    idx: row.idx,
    role: row.role,
    content: row.content,
    partsJson: row.parts_json,
    createdAtMs: row.created_at === null ? undefined : BigInt(row.created_at),
    model: optional(row.model),
    tokens: row.tokens === null ? undefined : BigInt(row.tokens),
    costUsd: optional(row.cost_usd),
    metadataJson: row.metadata,
    senderJson: row.sender_json,
    provider: optional(row.provider),
    harness: optional(row.harness),
    clientId: optional(row.client_id),
    id: row.id,
  };
}
