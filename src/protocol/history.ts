import { z } from "zod";
import { AgentPhase, CorrelationId, SessionId, SessionState } from "./common.ts";
import { Message, MessageRole } from "./message.ts";

/** One conversation as the session list shows it (PROTOCOL.md §2.4). */
export const SessionSummary = z.object({
  session_id: z.string(),
  pi_session_id: z.string(),
  title: z.string().optional(),
  readable_id: z.string().optional(),
  workspace_path: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  model: z.string().optional(),
  provider: z.string().optional(),
  message_count: z.number(),
  version: z.number(),
  parent_session_id: z.string().optional(),
  fork_type: z.string().optional(),
  first_user_message: z.string().optional(),
  live: z.object({ state: SessionState, phase: AgentPhase.optional(), seq: z.number() }).optional(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const SearchMode = z.enum(["auto", "natural", "code"]);
export type SearchMode = z.infer<typeof SearchMode>;

export const SearchHit = z.object({
  session_id: z.string(),
  message_id: z.string(),
  idx: z.number(),
  role: MessageRole,
  snippet: z.string(),
  score: z.number(),
  created_at: z.number(),
  title: z.string().optional(),
  workspace_path: z.string().optional(),
});
export type SearchHit = z.infer<typeof SearchHit>;

const Limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const Offset = z.coerce.number().int().min(0).max(1_000_000).default(0);

/** Params of the runner's history methods (and the bodies of the mux history channel). */
export const HistoryListParams = z.strictObject({
  workspace_path: z.string().min(1).optional(),
  limit: Limit(500, 50),
  offset: Offset,
});
export const HistoryGetParams = z.strictObject({ session_id: SessionId });
export const HistoryMessagesParams = z.strictObject({
  session_id: SessionId,
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export const HistorySearchParams = z.strictObject({
  query: z.string().trim().min(1, "query must not be empty").max(1000),
  workspace_path: z.string().min(1).optional(),
  mode: SearchMode.default("auto"),
  limit: Limit(200, 50),
  offset: Offset,
});
export const HistoryRenameParams = z.strictObject({
  session_id: SessionId,
  title: z.string().trim().min(1, "title must not be empty").max(200),
});
export const HistoryDeleteParams = z.strictObject({ session_id: SessionId });

/** `next_offset`: where the next page starts, when the server filled this one and more may follow. */
export const HistoryListResult = z.object({
  sessions: z.array(SessionSummary),
  next_offset: z.number().optional(),
});
export const HistoryGetResult = z.object({ session: SessionSummary.nullable() });
export const HistoryMessagesResult = z.object({
  session_id: z.string(),
  messages: z.array(Message),
  version: z.number(),
  message_count: z.number(),
});
export const HistorySearchResult = z.object({ hits: z.array(SearchHit), next_offset: z.number().optional() });

/** Client frames of the mux `history` channel. */
export const HistoryFrame = z.discriminatedUnion("type", [
  HistoryListParams.extend({
    channel: z.literal("history"),
    id: CorrelationId.optional(),
    type: z.literal("list"),
  }),
  HistoryGetParams.extend({
    channel: z.literal("history"),
    id: CorrelationId.optional(),
    type: z.literal("get"),
  }),
  HistoryMessagesParams.extend({
    channel: z.literal("history"),
    id: CorrelationId.optional(),
    type: z.literal("messages"),
  }),
  HistorySearchParams.extend({
    channel: z.literal("history"),
    id: CorrelationId.optional(),
    type: z.literal("search"),
  }),
]);
export type HistoryFrame = z.infer<typeof HistoryFrame>;
