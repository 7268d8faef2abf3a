import type { ReadonlySignal } from "@preact/signals";
import { useState } from "preact/hooks";
import {
  FileRefPartModel,
  ImagePartModel,
  type MessageModel,
  type PartModel,
  TextPartModel,
  ThinkingPartModel,
  ToolCallModel,
  ToolResultModel,
} from "../../state/chat/message-model.ts";
import { messageText } from "../../state/chat/message-text.ts";
import { formatTokens } from "../common/format.ts";
import { MarkdownText } from "./MarkdownText.tsx";
import { AnswerActions, PromptActions } from "./MessageActionsBar.tsx";
import { MessageEditor } from "./MessageEditor.tsx";
import { type MessageActions, messageElementId } from "./message-actions.ts";
import { ToolCallCard, ToolResultCard } from "./ToolCallCard.tsx";

/**
 * One message. It re-renders when its parts list changes; text inside parts updates on its own.
 * `lastAnswer` marks the answer that regenerate asks for again.
 */
export function MessageView({
  message,
  actions,
  lastAnswer = false,
}: {
  message: MessageModel;
  actions: MessageActions;
  lastAnswer?: boolean;
}) {
  if (message.hidden.value) return null;
  if (message.role === "user") return <UserMessage message={message} actions={actions} />;
  const parts = message.parts.value;
  const streaming = message.streaming.value;
  const error = message.errorMessage.value;
  return (
    <article
      class={`message ${message.role}`}
      data-testid="chat-message"
      data-role={message.role}
      data-streaming={streaming}
      aria-label={message.role === "assistant" ? "Agent message" : `${message.role} message`}
      aria-busy={streaming}
      {...anchorOf(message)}
    >
      {parts.map((part, index) => (
        <PartView key={index} part={part} streaming={streaming} actions={actions} />
      ))}
      {error && (
        <p class="message-error" role="alert">
          {error}
        </p>
      )}
      {message.stopReason.value === "aborted" && <p class="message-note">Stopped.</p>}
      <MessageFooter message={message} />
      {message.role === "assistant" && !streaming && (
        <AnswerActions message={message} actions={actions} last={lastAnswer} />
      )}
    </article>
  );
}

/** Ids only once the agent assigned them: search hits and forks point at stored messages. */
function anchorOf(message: MessageModel) {
  return message.optimistic.value
    ? {}
    : { id: messageElementId(message.idx), "data-message-id": message.id, "data-idx": message.idx };
}

function UserMessage({ message, actions }: { message: MessageModel; actions: MessageActions }) {
  const [editing, setEditing] = useState(false);
  const parts = message.parts.value;
  const streaming = message.streaming.value;
  const optimistic = message.optimistic.value;
  return (
    <article
      class="message user"
      data-testid="chat-message"
      data-role="user"
      data-optimistic={optimistic}
      data-editing={editing}
      aria-label="Your message"
      {...anchorOf(message)}
    >
      {editing ? (
        <MessageEditor
          initial={messageText(message)}
          onSend={(text) => actions.resend(message, text)}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <div class="bubble">
          {parts.map((part, index) => (
            <PartView key={index} part={part} streaming={streaming} actions={actions} />
          ))}
        </div>
      )}
      {!optimistic && !editing && (
        <PromptActions message={message} actions={actions} onEdit={() => setEditing(true)} />
      )}
    </article>
  );
}

function PartView({
  part,
  streaming,
  actions,
}: {
  part: PartModel;
  streaming: boolean;
  actions: MessageActions;
}) {
  if (part instanceof TextPartModel) {
    return part.format === "markdown" ? <MarkdownText text={part.text} /> : <PlainText text={part.text} />;
  }
  if (part instanceof ThinkingPartModel) return <ThinkingBlock text={part.text} streaming={streaming} />;
  if (part instanceof ToolCallModel) return <ToolCallCard call={part} actions={actions} />;
  if (part instanceof ToolResultModel) return <ToolResultCard result={part} />;
  if (part instanceof ImagePartModel) {
    return part.src ? (
      <ImageThumbnail src={part.src} alt={part.alt} />
    ) : (
      <span class="file-ref">{part.alt}</span>
    );
  }
  if (part instanceof FileRefPartModel) return <span class="file-ref">{part.label}</span>;
  return null;
}

/** A message's image as a thumbnail; activating it shows the image at full width and back. */
function ImageThumbnail({ src, alt }: { src: string; alt: string }) {
  const [expanded, setExpanded] = useState(false);
  return (
    <button
      type="button"
      class="message-thumbnail"
      aria-expanded={expanded}
      aria-label={expanded ? `${alt}: show smaller` : `${alt}: show larger`}
      onClick={() => setExpanded(!expanded)}
      data-testid="message-image"
    >
      <img class="message-image" src={src} alt={alt} />
    </button>
  );
}

/** The signal is passed as a child: Preact binds it to one text node, no component render per delta. */
function PlainText({ text }: { text: ReadonlySignal<string> }) {
  return <div class="plain-text">{text}</div>;
}

function ThinkingBlock({ text, streaming }: { text: ReadonlySignal<string>; streaming: boolean }) {
  return (
    <details class="thinking" data-testid="thinking">
      <summary>{streaming ? "Thinking…" : "Thought process"}</summary>
      <div class="thinking-text">{text}</div>
    </details>
  );
}

function MessageFooter({ message }: { message: MessageModel }) {
  const meta = message.meta.value;
  if (message.role !== "assistant" || !meta || message.streaming.value) return null;
  const usage = meta.usage;
  const bits = [
    meta.model,
    usage && `${formatTokens(usage.input_tokens)} in · ${formatTokens(usage.output_tokens)} out`,
  ].filter(Boolean);
  if (bits.length === 0) return null;
  return <footer class="message-meta">{bits.join(" · ")}</footer>;
}
