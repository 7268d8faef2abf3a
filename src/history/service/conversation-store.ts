import type { Database } from "bun:sqlite";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ConversationSchema, ConversationSummarySchema } from "../../gen/hstry_service_pb.ts";

/** A `conversations` row as SQLite returns it. */
export interface ConversationRow {
  id: string;
  source_id: string;
  external_id: string;
  readable_id: string | null;
  platform_id: string | null;
  title: string | null;
  created_at: number;
  updated_at: number;
  model: string | null;
  provider: string | null;
  workspace: string | null;
  harness: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
  metadata: string;
  version: number;
  message_count: number;
  first_user_message: string;
  parent_conversation_id: string | null;
  parent_message_idx: number | null;
  fork_type: string | null;
}

/** The validated columns of a WriteConversation request. */
export interface ConversationInput {
  source_id: string;
  external_id: string;
  readable_id: string | null;
  platform_id: string | null;
  title: string | null;
  created_at: number | null;
  updated_at: number | null;
  model: string | null;
  provider: string | null;
  workspace: string | null;
  harness: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
  metadata: string;
  parent_conversation_id: string | null;
  parent_message_idx: number | null;
  fork_type: string | null;
}

/** Columns UpdateConversation may change; absent keys stay as they are. */
export type ConversationChanges = Partial<
  Pick<
    ConversationRow,
    | "title"
    | "workspace"
    | "model"
    | "provider"
    | "metadata"
    | "readable_id"
    | "harness"
    | "platform_id"
    | "parent_conversation_id"
    | "parent_message_idx"
    | "fork_type"
  >
>;

const SELECT = "SELECT * FROM conversations";

/** `first_user_message` is kept short because every ListConversations row carries it. */
const FIRST_USER_MESSAGE_CHARS = 1000;

/** Sources are created on first use, named after themselves (HSTRY.md §6). */
export function ensureSource(db: Database, sourceId: string): void {
  db.query("INSERT INTO sources (id, adapter) VALUES (?, ?) ON CONFLICT (id) DO NOTHING").run(
    sourceId,
    sourceId,
  );
}

export function findConversationById(db: Database, id: string): ConversationRow | null {
  return db.query<ConversationRow, [string]>(`${SELECT} WHERE id = ?`).get(id);
}

export function findConversationByKey(
  db: Database,
  sourceId: string,
  externalId: string,
): ConversationRow | null {
  return db
    .query<ConversationRow, [string, string]>(`${SELECT} WHERE source_id = ? AND external_id = ?`)
    .get(sourceId, externalId);
}

export function findConversationByReadableId(db: Database, readableId: string): ConversationRow | null {
  return db
    .query<ConversationRow, [string]>(`${SELECT} WHERE readable_id = ? ORDER BY updated_at DESC LIMIT 1`)
    .get(readableId);
}

export function findLatestInWorkspace(db: Database, workspace: string): ConversationRow | null {
  return db
    .query<ConversationRow, [string]>(`${SELECT} WHERE workspace = ? ORDER BY updated_at DESC LIMIT 1`)
    .get(workspace);
}

/**
 * Upsert on `(source_id, external_id)`: the request's values replace the stored ones, except that
 * `readable_id` and `platform_id` only change to non-empty values and `created_at` is kept when the request
 * has none. Returns the conversation id.
 */
export function upsertConversation(db: Database, input: ConversationInput, now: number): string {
  const row = db
    .query<{ id: string }, Record<string, string | number | null>>(
      `INSERT INTO conversations (
         id, source_id, external_id, readable_id, platform_id, title, created_at, updated_at, model, provider,
         workspace, harness, tokens_in, tokens_out, cost_usd, metadata, parent_conversation_id,
         parent_message_idx, fork_type)
       VALUES (
         $id, $source_id, $external_id, NULLIF($readable_id, ''), NULLIF($platform_id, ''), $title,
         COALESCE($created_at, $now), COALESCE($updated_at, $now), $model, $provider, $workspace, $harness,
         $tokens_in, $tokens_out, $cost_usd, $metadata, $parent_conversation_id, $parent_message_idx, $fork_type)
       ON CONFLICT (source_id, external_id) DO UPDATE SET
         readable_id = COALESCE(NULLIF(excluded.readable_id, ''), readable_id),
         platform_id = COALESCE(NULLIF(excluded.platform_id, ''), platform_id),
         title = excluded.title,
         created_at = COALESCE($created_at, created_at),
         updated_at = excluded.updated_at,
         model = excluded.model,
         provider = excluded.provider,
         workspace = excluded.workspace,
         harness = excluded.harness,
         tokens_in = excluded.tokens_in,
         tokens_out = excluded.tokens_out,
         cost_usd = excluded.cost_usd,
         metadata = excluded.metadata,
         parent_conversation_id = excluded.parent_conversation_id,
         parent_message_idx = excluded.parent_message_idx,
         fork_type = excluded.fork_type
       RETURNING id`,
    )
    .get({ ...input, id: crypto.randomUUID(), now });
  if (!row) throw new Error("conversation upsert returned no row");
  return row.id;
}

const CHANGEABLE: ReadonlyArray<keyof ConversationChanges> = [
  "title",
  "workspace",
  "model",
  "provider",
  "metadata",
  "readable_id",
  "harness",
  "platform_id",
  "parent_conversation_id",
  "parent_message_idx",
  "fork_type",
];

/** Applies the set fields only; the column names come from CHANGEABLE, never from the request. */
export function updateConversation(db: Database, id: string, changes: ConversationChanges): void {
  const keys = CHANGEABLE.filter((key) => changes[key] !== undefined);
  if (keys.length === 0) return;
  const assignments = keys.map((key) => `${key} = $${key}`).join(", ");
  const values: Record<string, string | number | null> = { id };
  for (const key of keys) values[key] = changes[key] ?? null;
  db.query(`UPDATE conversations SET ${assignments} WHERE id = $id`).run(values);
}

export function deleteConversation(db: Database, id: string): void {
  db.query("DELETE FROM conversations WHERE id = ?").run(id);
}

/**
 * Every mutation ends here: bumps `version` and, after message writes, recomputes the denormalized
 * `message_count` and `first_user_message` (both read through the `(conversation_id, idx)` index).
 * `updatedAt` null keeps `updated_at`.
 */
export function recordMutation(
  db: Database,
  id: string,
  options: { messagesChanged: boolean; updatedAt: number | null },
): { version: number; message_count: number } {
  const recount = options.messagesChanged
    ? `, message_count = (SELECT count(*) FROM messages WHERE conversation_id = $id),
       first_user_message = COALESCE((SELECT substr(content, 1, ${FIRST_USER_MESSAGE_CHARS}) FROM messages
         WHERE conversation_id = $id AND role = 'user' ORDER BY idx LIMIT 1), '')`
    : "";
  const row = db
    .query<{ version: number; message_count: number }, { id: string; updated_at: number | null }>(
      `UPDATE conversations SET version = version + 1, updated_at = COALESCE($updated_at, updated_at)${recount}
       WHERE id = $id RETURNING version, message_count`,
    )
    .get({ id, updated_at: options.updatedAt });
  if (!row) throw new Error(`conversation ${id} vanished inside its transaction`);
  return row;
}

export function listConversations(
  db: Database,
  filter: { sourceId: string; workspace: string; limit: number; offset: number },
): ConversationRow[] {
  const where: string[] = [];
  const values: Record<string, string | number> = {
    limit: filter.limit > 0 ? filter.limit : -1,
    offset: filter.offset,
  };
  if (filter.sourceId !== "") {
    where.push("source_id = $source_id");
    values.source_id = filter.sourceId;
  }
  if (filter.workspace !== "") {
    where.push("workspace = $workspace");
    values.workspace = filter.workspace;
  }
  const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  return db
    .query<ConversationRow, Record<string, string | number>>(
      `${SELECT} ${clause} ORDER BY updated_at DESC, id LIMIT $limit OFFSET $offset`,
    )
    .all(values);
}

const optional = <T>(value: T | null): T | undefined => value ?? undefined;
const optionalBig = (value: number | null): bigint | undefined =>
  value === null ? undefined : BigInt(value);

export function conversationToProto(row: ConversationRow): MessageInitShape<typeof ConversationSchema> {
  return {
    sourceId: row.source_id,
    externalId: row.external_id,
    title: optional(row.title),
    createdAtMs: BigInt(row.created_at),
    updatedAtMs: BigInt(row.updated_at),
    model: optional(row.model),
    provider: optional(row.provider),
    workspace: optional(row.workspace),
    tokensIn: optionalBig(row.tokens_in),
    tokensOut: optionalBig(row.tokens_out),
    costUsd: optional(row.cost_usd),
    metadataJson: row.metadata,
    harness: optional(row.harness),
    readableId: optional(row.readable_id),
    platformId: optional(row.platform_id),
    version: BigInt(row.version),
    messageCount: row.message_count,
    parentConversationId: optional(row.parent_conversation_id),
    parentMessageIdx: optional(row.parent_message_idx),
    forkType: optional(row.fork_type),
  };
}

export function summaryToProto(row: ConversationRow): MessageInitShape<typeof ConversationSummarySchema> {
  return {
    conversation: conversationToProto(row),
    messageCount: BigInt(row.message_count),
    firstUserMessage: row.first_user_message,
  };
}
