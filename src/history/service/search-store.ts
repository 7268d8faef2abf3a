import type { Database } from "bun:sqlite";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SearchHitSchema } from "../../gen/hstry_service_pb.ts";
import type { SearchIndex } from "./search-query.ts";

/** Filters of a search; empty string / 0 means "no filter". */
export interface SearchFilters {
  source: string;
  workspace: string;
  afterMs: number;
  beforeMs: number;
  role: string;
  model: string;
  harness: string;
  tag: string;
}

interface SearchHitRow {
  message_id: string;
  conversation_id: string;
  idx: number;
  role: string;
  content: string;
  snippet: string;
  created_at: number | null;
  conv_created_at: number;
  conv_updated_at: number;
  score: number;
  source_id: string;
  external_id: string;
  title: string | null;
  workspace: string | null;
  source_adapter: string;
  source_path: string | null;
  readable_id: string | null;
}

const FTS_TABLE: Record<SearchIndex, string> = { natural: "messages_fts", code: "messages_code_fts" };

/** Tokens around the match in a snippet; plain text, no markers (clients highlight themselves). */
const SNIPPET_TOKENS = 24;

/**
 * How many matches, newest first, are ranked. bm25 costs about 0.6 µs per matching row, so a word found
 * in most of 100,000 messages would take ~40 ms to rank exactly; beyond this window the ranking covers
 * the newest matches only (those passing the filters), which keeps search p95 well under 50 ms and
 * suits a history, where recent hits matter most. Queries with fewer matches are ranked exactly.
 */
export const SEARCH_CANDIDATES = 10_000;

/**
 * Full-text search ranked by bm25 (best first, newer first on ties); `match` must come from
 * toMatchExpression. Phase one ranks the candidates without touching their text; phase two builds
 * snippets for the requested page only.
 */
export function searchMessages(
  db: Database,
  index: SearchIndex,
  match: string,
  filters: SearchFilters,
  page: { limit: number; offset: number },
): SearchHitRow[] {
  const fts = FTS_TABLE[index];
  const where = [`${fts} MATCH $match`];
  const values: Record<string, string | number> = {
    match,
    limit: page.limit,
    offset: page.offset,
    candidates: Math.max(SEARCH_CANDIDATES, page.offset + page.limit),
  };
  const addFilter = (active: boolean, clause: string, key: string, value: string | number) => {
    if (!active) return;
    where.push(clause);
    values[key] = value;
  };
  addFilter(filters.source !== "", "c.source_id = $source", "source", filters.source);
  addFilter(filters.workspace !== "", "c.workspace = $workspace", "workspace", filters.workspace);
  addFilter(filters.afterMs > 0, "m.created_at > $after_ms", "after_ms", filters.afterMs);
  addFilter(filters.beforeMs > 0, "m.created_at < $before_ms", "before_ms", filters.beforeMs);
  addFilter(filters.role !== "", "m.role = $role", "role", filters.role);
  addFilter(filters.model !== "", "COALESCE(m.model, c.model) = $model", "model", filters.model);
  addFilter(filters.harness !== "", "COALESCE(m.harness, c.harness) = $harness", "harness", filters.harness);
  addFilter(
    filters.tag !== "",
    `EXISTS (SELECT 1 FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
             WHERE ct.conversation_id = c.id AND t.name = $tag)`,
    "tag",
    filters.tag,
  );
  return db
    .query<SearchHitRow, Record<string, string | number>>(
      `WITH candidates AS (
         SELECT m.pk AS pk, bm25(${fts}) AS rank_score
         FROM ${fts}
         JOIN messages m ON m.pk = ${fts}.rowid
         JOIN conversations c ON c.id = m.conversation_id
         WHERE ${where.join(" AND ")}
         ORDER BY ${fts}.rowid DESC
         LIMIT $candidates
       ), page AS (
         SELECT pk, rank_score FROM candidates ORDER BY rank_score, pk DESC LIMIT $limit OFFSET $offset
       )
       SELECT m.id AS message_id, m.conversation_id, m.idx, m.role, m.content,
              snippet(${fts}, 0, '', '', '…', ${SNIPPET_TOKENS}) AS snippet,
              m.created_at, c.created_at AS conv_created_at, c.updated_at AS conv_updated_at,
              -page.rank_score AS score, c.source_id, c.external_id, c.title, c.workspace,
              s.adapter AS source_adapter, s.path AS source_path, c.readable_id
       FROM page
       JOIN ${fts} ON ${fts}.rowid = page.pk
       JOIN messages m ON m.pk = page.pk
       JOIN conversations c ON c.id = m.conversation_id
       JOIN sources s ON s.id = c.source_id
       WHERE ${fts} MATCH $match
       ORDER BY page.rank_score, page.pk DESC`,
    )
    .all(values);
}

export function searchHitToProto(row: SearchHitRow): MessageInitShape<typeof SearchHitSchema> {
  return {
    messageId: row.message_id,
    conversationId: row.conversation_id,
    messageIdx: row.idx,
    role: row.role,
    content: row.content,
    snippet: row.snippet,
    createdAtMs: BigInt(row.created_at ?? 0),
    convCreatedAtMs: BigInt(row.conv_created_at),
    convUpdatedAtMs: BigInt(row.conv_updated_at),
    score: row.score,
    sourceId: row.source_id,
    externalId: row.external_id,
    title: row.title ?? "",
    workspace: row.workspace ?? "",
    sourceAdapter: row.source_adapter,
    sourcePath: row.source_path ?? "",
    readableId: row.readable_id ?? "",
  };
}
