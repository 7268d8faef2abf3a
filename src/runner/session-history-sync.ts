/**
 * The runner's sessions in history (HSTRY.md §5.3): the conversation sync of a live session, and
 * at runner start the messages history lacks for sessions an earlier runner could not save.
 */
import type { HistoryStore } from "../history/history-store.ts";
import type { Message } from "../protocol/message.ts";
import { mapPiConversation } from "./harness/pi/message-mapper.ts";
import { ConversationSync } from "./history/conversation-sync.ts";
import type { Session } from "./session.ts";
import { readPiSessionMessages } from "./session-files.ts";
import type { SessionIndex } from "./session-index.ts";

/** A live session's conversation, written under the facts the session has at each write. */
export function liveConversationSync(
  session: Session,
  store: HistoryStore,
  index: SessionIndex,
  log: (message: string) => void,
): ConversationSync {
  return new ConversationSync({
    store,
    facts: () =>
      session.piSessionId === undefined
        ? undefined
        : {
            sessionId: session.id,
            piSessionId: session.piSessionId,
            piSessionFile: session.piSessionFile,
            workspace: session.workspacePath,
            createdAt: session.createdAt,
            title: session.title,
            model: session.model,
            provider: session.provider,
          },
    onDirty: (dirty) => index.setHistoryDirty(session.id, dirty),
    log,
  });
}

/**
 * Runner start: sessions whose last write failed get the messages history lacks from pi's session
 * file. A failure leaves the mark for the next start (or the session's next write).
 */
export async function recoverHistory(
  store: HistoryStore,
  index: SessionIndex,
  log: (message: string) => void,
  shuttingDown: () => boolean,
): Promise<void> {
  for (const record of index.listHistoryDirty()) {
    const { session_id: sessionId, pi_session_id: piSessionId, pi_session_file: file } = record;
    if (shuttingDown()) return;
    if (!piSessionId || !file) {
      index.setHistoryDirty(sessionId, false);
      continue;
    }
    let messages: Message[];
    try {
      messages = mapPiConversation(sessionId, (await readPiSessionMessages(file)) ?? []);
    } catch (error) {
      log(`[${sessionId}] cannot read ${file} to complete history: ${(error as Error).message}`);
      continue;
    }
    const sync = new ConversationSync({
      store,
      facts: () => ({
        sessionId,
        piSessionId,
        piSessionFile: file,
        workspace: record.workspace_path,
        createdAt: record.created_at,
        title: record.title ?? undefined,
        model: record.model ?? undefined,
        provider: record.provider ?? undefined,
      }),
      onDirty: (dirty) => index.setHistoryDirty(sessionId, dirty),
      log: (message) => log(`[${sessionId}] ${message}`),
    });
    if (await sync.bind({ messageCount: messages.length, loadMessages: async () => messages })) {
      log(`[${sessionId}] history completed from the pi session file`);
    }
  }
}
