import type { RefObject } from "preact";
import { useEffect, useLayoutEffect, useMemo } from "preact/hooks";
import type { AgentPhase, SessionState } from "../../../../src/protocol/index.ts";
import { toWorkspaceRelative } from "../../lib/paths.ts";
import { forkChat } from "../../state/chat/active-chat.ts";
import type { ChatSession } from "../../state/chat/chat-session.ts";
import { messageFocus } from "../../state/chat/message-focus.ts";
import type { MessageModel } from "../../state/chat/message-model.ts";
import { regenerate, resendAsFork } from "../../state/chat/resend.ts";
import { openFileInPanel } from "../../state/workspace-panel.ts";
import { ArrowDownIcon } from "../common/icons.tsx";
import { PanelToggles } from "../layout/PanelToggles.tsx";
import { SessionsToggle } from "../sessions/SessionsToggle.tsx";
import { AlertStack } from "./AlertStack.tsx";
import { ChatUsage } from "./ChatUsage.tsx";
import { Composer } from "./Composer.tsx";
import { InputRequestDialog } from "./InputRequestDialog.tsx";
import { MessageView } from "./MessageView.tsx";
import { EarlierMessages, MessageWindow } from "./MessageWindow.tsx";
import { ModelPicker } from "./ModelPicker.tsx";
import { type MessageActions, messageElementId } from "./message-actions.ts";
import { NotificationToggle } from "./NotificationToggle.tsx";
import { QueuePanel } from "./QueuePanel.tsx";
import { ThinkingLevelPicker } from "./ThinkingLevelPicker.tsx";
import { currentModel, useModels } from "./useModels.ts";
import { useStickToBottom } from "./useStickToBottom.ts";

const PHASE_LABELS: Record<AgentPhase, string> = {
  initializing: "Starting",
  generating: "Writing",
  thinking: "Thinking",
  tool_running: "Running a tool",
  compacting: "Compacting",
  retrying: "Retrying",
};

const STATE_LABELS: Record<SessionState, string> = {
  starting: "Starting",
  idle: "Ready",
  streaming: "Working",
  compacting: "Compacting",
  aborting: "Stopping",
  stopping: "Stopping",
  closed: "Stopped",
};

export function ChatView({ chat, onShowSessions }: { chat: ChatSession; onShowSessions: () => void }) {
  const { scrollRef, contentRef, atBottom, scrollToBottom, detach } = useStickToBottom();
  const actions = useMemo<MessageActions>(
    () => ({
      fork: (message) => void forkChat(chat, message),
      resend: (message, text) => resendAsFork(chat, message, text),
      regenerate: () => regenerate(chat),
      busy: chat.busy,
      resolveFile: (path) => toWorkspaceRelative(chat.workspace.path, path),
      openFile: (path) => openFileInPanel(chat.workspace, path),
    }),
    [chat],
  );
  const models = useModels(chat);
  const model = currentModel(chat, models.models.value);
  const messageWindow = useMemo(() => new MessageWindow(), [chat]);
  useEffect(() => () => messageWindow.dispose(), [messageWindow]);

  return (
    <section class="chat" aria-label="Conversation" data-testid="chat-view" data-session-id={chat.id}>
      <header class="chat-header">
        <SessionsToggle onClick={onShowSessions} />
        <div class="chat-heading">
          <h1 class="chat-title" data-testid="chat-title">
            {chat.title.value ?? "New session"}
          </h1>
          <SessionStatus chat={chat} />
        </div>
        <ChatUsage chat={chat} model={model} />
        <div class="chat-controls">
          <ModelPicker chat={chat} list={models} />
          <ThinkingLevelPicker chat={chat} reasoning={model?.reasoning ?? false} />
          <NotificationToggle />
        </div>
        <PanelToggles />
      </header>
      <div class="chat-scroll" ref={scrollRef}>
        <div class="chat-content" ref={contentRef}>
          <MessageList chat={chat} actions={actions} messageWindow={messageWindow} scrollRef={scrollRef} />
          <FocusFollower chat={chat} root={scrollRef} detach={detach} messageWindow={messageWindow} />
          <WorkingIndicator chat={chat} />
        </div>
      </div>
      {!atBottom.value && (
        <button
          type="button"
          class="jump-latest"
          onClick={scrollToBottom}
          aria-label="Scroll to the latest message"
        >
          <ArrowDownIcon size={14} /> Latest
        </button>
      )}
      <div class="chat-footer">
        <AlertStack chat={chat} />
        <QueuePanel chat={chat} />
        <Composer chat={chat} onSent={scrollToBottom} model={model} />
      </div>
      <InputRequestDialog chat={chat} />
    </section>
  );
}

/**
 * Renders when messages are added or removed (or older ones are revealed); streaming content
 * updates inside each message. Only the window's messages are rendered (see MessageWindow).
 */
function MessageList({
  chat,
  actions,
  messageWindow,
  scrollRef,
}: {
  chat: ChatSession;
  actions: MessageActions;
  messageWindow: MessageWindow;
  scrollRef: RefObject<HTMLElement | null>;
}) {
  const load = chat.load.value;
  const messages = chat.messages.value;
  const start = messageWindow.start(messages);
  const answer = lastAnswer(messages);
  useEffect(() => messageWindow.settle(messages), [messageWindow, messages]);
  // Before paint: a step of older messages must not show the text jumping.
  useLayoutEffect(() => messageWindow.restoreAnchor(scrollRef.current), [messageWindow, start]);
  if (load.status === "failed") {
    return (
      <div class="chat-empty" role="alert" data-testid="chat-load-error">
        <p>{load.error}</p>
        <button type="button" class="button" onClick={() => void chat.retry()}>
          Try again
        </button>
      </div>
    );
  }
  if (load.status === "loading" && messages.length === 0) {
    return <p class="chat-empty muted">Loading the conversation…</p>;
  }
  if (messages.length === 0) {
    return (
      <div class="chat-empty">
        <p class="chat-empty-title">What should the agent do?</p>
        <p class="muted">It works inside {chat.workspace.path} and can read, write and run commands there.</p>
      </div>
    );
  }
  return (
    <div class="message-list" data-testid="message-list">
      {(start > 0 || chat.olderCount.value > 0) && (
        <EarlierMessages chat={chat} messageWindow={messageWindow} start={start} scrollRef={scrollRef} />
      )}
      {messages.slice(start).map((message) => (
        <MessageView key={message.key} message={message} actions={actions} lastAnswer={message === answer} />
      ))}
    </div>
  );
}

/** The last agent message after the last stored prompt: the answer regenerate asks for again. */
function lastAnswer(messages: readonly MessageModel[]): MessageModel | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (!message || message.role === "user") return null;
    if (message.role !== "assistant") continue;
    const prompt = messages.slice(0, i).findLast((m) => m.role === "user");
    return prompt && !prompt.optimistic.value ? message : null;
  }
  return null;
}

/**
 * Brings a clicked search hit into view once its message is on screen, and marks it briefly. A
 * component of its own so that the list changes it watches re-render nothing else.
 */
function FocusFollower({
  chat,
  root,
  detach,
  messageWindow,
}: {
  chat: ChatSession;
  root: RefObject<HTMLElement | null>;
  detach: () => void;
  messageWindow: MessageWindow;
}) {
  const focus = messageFocus.value;
  const messages = chat.messages.value;
  const olderCount = chat.olderCount.value;
  const loaded = chat.load.value.status === "ready";
  const start = messageWindow.start(messages);
  useEffect(() => {
    if (!focus || focus.sessionId !== chat.id || !loaded) return;
    const target = messages.find((m) => m.id === focus.messageId);
    const idx = target?.idx ?? Number(focus.messageId.slice(focus.messageId.lastIndexOf("#") + 1));
    // A hit before the messages held: fetch back to it, then render back to it (this runs again each time).
    if (idx < olderCount) {
      void chat.older.loadTo(idx);
      return;
    }
    const held = messages.findLast((m) => m.idx <= idx);
    if (held && messageWindow.revealTo(held.idx)) return;
    const element = nearestMessageElement(root.current, idx);
    messageFocus.value = null;
    if (!element) return;
    detach();
    element.scrollIntoView({ block: "center" });
    element.dataset.focused = "true";
    setTimeout(() => delete element.dataset.focused, 2500);
  }, [focus, messages, olderCount, loaded, start]);
  return null;
}

/** The element of message `idx`, else of the closest shown message before it (tool results may be folded into their call). */
function nearestMessageElement(root: HTMLElement | null, idx: number): HTMLElement | null {
  if (!root || !Number.isInteger(idx)) return null;
  let best: HTMLElement | null = null;
  for (const element of root.querySelectorAll<HTMLElement>("[data-idx]")) {
    if (Number(element.dataset.idx) <= idx) best = element;
  }
  return root.querySelector<HTMLElement>(`#${messageElementId(idx)}`) ?? best;
}

/** 1st, 2nd, 3rd, 4th… 11th, 12th, 13th, 21st. */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${{ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th"}`;
}

function WorkingIndicator({ chat }: { chat: ChatSession }) {
  const queued = chat.admission.value;
  if (queued) {
    return (
      <div
        class="working queued"
        role="status"
        data-testid="queued-indicator"
        data-position={queued.position}
        title="The server is at its limit of sessions generating at once; this one starts when its turn comes."
      >
        Queued — {ordinal(queued.position)} in line
      </div>
    );
  }
  if (!chat.busy.value) return null;
  const phase = chat.phase.value;
  const label = phase ? PHASE_LABELS[phase.phase] : "Working";
  return (
    <div class="working" data-testid="working-indicator">
      <span class="working-dots" aria-hidden="true">
        <span />
        <span />
        <span />
      </span>
      {label}
      {phase?.detail ? `: ${phase.detail}` : "…"}
    </div>
  );
}

function SessionStatus({ chat }: { chat: ChatSession }) {
  const state = chat.state.value;
  if (chat.admission.value) {
    return (
      <span class="session-status" data-state="queued" data-testid="session-state">
        <span class="state-dot" data-state="starting" aria-hidden="true" />
        Queued
      </span>
    );
  }
  if (state === null) return null;
  return (
    <span class="session-status" data-state={state} data-testid="session-state">
      <span class="state-dot" data-state={state} aria-hidden="true" />
      {STATE_LABELS[state]}
    </span>
  );
}
