import { effect, untracked } from "@preact/signals";
import type { InputRequest } from "../../../src/protocol/index.ts";
import { clearFaviconDot, showFaviconDot } from "../lib/favicon.ts";
import { activeChat } from "./chat/active-chat.ts";
import type { ChatSession } from "./chat/chat-session.ts";
import { messageText } from "./chat/message-text.ts";
import { notify } from "./desktop-notifications.ts";
import { navigate, workspacePath } from "./router.ts";

/**
 * Tells a user in another tab that the agent needs them: while this tab is hidden, a finished turn
 * or a question from the agent marks the tab's title and icon (and shows a desktop notification if
 * they are on); seeing the tab again takes the marks away.
 */

type Attention = "done" | "input";

const TITLE_MARKS: Record<Attention, string> = { done: "● ", input: "? " };
const DOT_COLOURS: Record<Attention, string> = { done: "#16a34a", input: "#d97706" };

/** The mark on the tab and the title it covers. */
let marked: { kind: Attention; title: string } | null = null;

function tabHidden(): boolean {
  return document.visibilityState === "hidden";
}

function mark(kind: Attention): void {
  const title = marked?.title ?? document.title;
  marked = { kind, title };
  document.title = TITLE_MARKS[kind] + title;
  showFaviconDot(DOT_COLOURS[kind]);
}

function unmark(): void {
  if (!marked) return;
  document.title = marked.title;
  marked = null;
  clearFaviconDot();
}

function sessionName(chat: ChatSession): string {
  return chat.title.value ?? "New session";
}

function showChat(chat: ChatSession): void {
  navigate(workspacePath(chat.workspace.name, chat.id));
}

function turnEnded(chat: ChatSession): void {
  mark("done");
  const answer = chat.messages.value.findLast((m) => m.role === "assistant");
  const body = answer ? messageText(answer) || (answer.errorMessage.value ?? "") : "";
  notify(`Agent finished · ${sessionName(chat)}`, body || "The turn has ended.", `oqto-${chat.id}`, () =>
    showChat(chat),
  );
}

function inputNeeded(chat: ChatSession, request: InputRequest): void {
  mark("input");
  const detail = request.type === "confirm" ? `${request.title}: ${request.message}` : request.title;
  notify(`Agent waiting for you · ${sessionName(chat)}`, detail, `oqto-${chat.id}`, () => showChat(chat));
}

/** Watches the conversation on screen and the tab's visibility; call once at startup. */
export function installAttention(): void {
  document.addEventListener("visibilitychange", () => {
    if (!tabHidden()) unmark();
  });
  let watched: ChatSession | null = null;
  let wasBusy = false;
  let seenInputs = new Set<string>();
  effect(() => {
    const chat = activeChat.value;
    if (!chat) {
      watched = null;
      return;
    }
    const busy = chat.busy.value;
    const inputs = chat.pendingInputs.value;
    const ended = chat === watched && wasBusy && !busy;
    const fresh = chat === watched ? inputs.find((r) => !seenInputs.has(r.request_id)) : undefined;
    watched = chat;
    wasBusy = busy;
    seenInputs = new Set(inputs.map((r) => r.request_id));
    if (!tabHidden()) return;
    // What is read to say it (title, messages) must not make this effect run again.
    untracked(() => {
      if (fresh) inputNeeded(chat, fresh);
      else if (ended) turnEnded(chat);
      // Answered elsewhere: the agent is not waiting any more.
      else if (marked?.kind === "input" && inputs.length === 0) unmark();
    });
  });
}
