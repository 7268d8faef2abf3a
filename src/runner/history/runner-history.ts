import type { z } from "zod";
import type {
  HistoryListParams,
  HistoryMessagesResult,
  HistorySearchParams,
  SearchHit,
  SessionSummary,
} from "../../protocol/index.ts";

/**
 * The runner's history operations behind the `history.*` methods: the user's conversations,
 * keyed by Oqto session id, with live state from the session manager where a session runs.
 */
export interface RunnerHistory {
  list(params: z.output<typeof HistoryListParams>): Promise<{ sessions: SessionSummary[] }>;
  get(sessionId: string): Promise<SessionSummary | null>;
  messages(sessionId: string, limit?: number): Promise<z.output<typeof HistoryMessagesResult>>;
  search(params: z.output<typeof HistorySearchParams>): Promise<{ hits: SearchHit[] }>;
  rename(sessionId: string, title: string): Promise<void>;
  /** Closes the session if it runs, deletes the conversation and pi's session file. */
  delete(sessionId: string): Promise<void>;
}
