import { signal } from "@preact/signals";
import type { Workspace } from "../../../../src/protocol/index.ts";
import type { ForkResult } from "../../lib/command-results.ts";
import { newSessionId } from "../../lib/uuidv7.ts";
import { mux } from "../connection.ts";
import { historyFor } from "../history/session-history.ts";
import { navigate, workspacePath } from "../router.ts";
import { ChatSession } from "./chat-session.ts";
import { stashDraft } from "./drafts.ts";
import type { MessageModel } from "./message-model.ts";

/** The conversation on screen. Only this one is subscribed; switching away unsubscribes it. */
export const activeChat = signal<ChatSession | null>(null);

function replaceActive(chat: ChatSession | null): void {
  activeChat.value?.dispose();
  activeChat.value = chat;
}

/** Shows an existing session (after a reload, from the list or a link). */
export function openChat(sessionId: string, workspace: Workspace): void {
  const current = activeChat.value;
  if (current && current.id === sessionId && current.workspace.path === workspace.path) return;
  const chat = new ChatSession(mux, sessionId, workspace);
  replaceActive(chat);
  void chat.open();
}

/** Creates a session in the workspace and shows it at once, while its process starts. */
export function startNewChat(workspace: Workspace): void {
  const chat = new ChatSession(mux, newSessionId(), workspace);
  const history = historyFor(workspace);
  replaceActive(chat);
  history.addLocal(chat.id);
  navigate(workspacePath(workspace.name, chat.id));
  void chat.create().then(() => history.refresh());
}

/**
 * Forks `chat` at one of its user messages and shows the new session, with that message's text in
 * the composer to edit and resend.
 */
export async function forkChat(chat: ChatSession, message: MessageModel): Promise<void> {
  const result = await forkInHistory(chat, message);
  if (!result) return;
  // The old stream's `session.closed{replaced}` may have brought the new session on screen already.
  const shown = activeChat.value;
  if (shown?.id === result.new_session_id) {
    if (shown.draft.value === "") shown.draft.value = result.text;
  } else {
    stashDraft(result.new_session_id, result.text);
  }
  navigate(workspacePath(chat.workspace.name, result.new_session_id));
}

/** Forks `chat` at a user message and lists the fork in the sidebar; null if no fork was made. */
export async function forkInHistory(chat: ChatSession, message: MessageModel): Promise<ForkResult | null> {
  const result = await chat.fork(message);
  if (!result) return null;
  const history = historyFor(chat.workspace);
  history.addLocal(result.new_session_id);
  void history.refresh();
  return result;
}

export function closeActiveChat(): void {
  replaceActive(null);
}
