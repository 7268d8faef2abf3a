import { signal } from "@preact/signals";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { newSessionId } from "../../lib/uuidv7.ts";
import { mux } from "../connection.ts";
import { navigate, workspacePath } from "../router.ts";
import { addLocalSession, refreshSessions } from "../session-list.ts";
import { ChatSession } from "./chat-session.ts";

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
  replaceActive(chat);
  addLocalSession(chat.id, workspace.path);
  navigate(workspacePath(workspace.name, chat.id));
  void chat.create().then(refreshSessions);
}

export function closeActiveChat(): void {
  replaceActive(null);
}
