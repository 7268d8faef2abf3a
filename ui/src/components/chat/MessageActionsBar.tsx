import type { MessageModel } from "../../state/chat/message-model.ts";
import { messageText } from "../../state/chat/message-text.ts";
import { BranchIcon, EditIcon, RefreshIcon } from "../common/icons.tsx";
import { CopyButton } from "./CopyButton.tsx";
import type { MessageActions } from "./message-actions.ts";

/**
 * The row under a stored prompt: copy, edit and resend, fork. Icons only, so the message's text
 * content stays exactly what the user wrote; each button has its name for assistive technology.
 */
export function PromptActions({
  message,
  actions,
  onEdit,
}: {
  message: MessageModel;
  actions: MessageActions;
  onEdit: () => void;
}) {
  const busy = actions.busy.value;
  const waitNote = busy ? " (once the agent is idle)" : "";
  return (
    <div class="message-actions action-row" data-testid="message-actions">
      <CopyButton text={() => messageText(message)} label="Copy this message" testId="message-copy" />
      <button
        type="button"
        class="icon-button small"
        onClick={onEdit}
        disabled={busy}
        title={`Edit and resend: a new session from here with the edited message${waitNote}`}
        aria-label="Edit and resend this message"
        data-testid="message-edit"
      >
        <EditIcon size={14} />
      </button>
      <button
        type="button"
        class="icon-button small"
        onClick={() => actions.fork(message)}
        disabled={busy}
        title={`Fork: start a new session from here, with this message to edit and resend${waitNote}`}
        aria-label="Fork the conversation from this message"
        data-testid="message-fork"
      >
        <BranchIcon size={14} />
      </button>
    </div>
  );
}

/** The row under an answer: copy its markdown and, on the last answer, regenerate it. */
export function AnswerActions({
  message,
  actions,
  last,
}: {
  message: MessageModel;
  actions: MessageActions;
  last: boolean;
}) {
  const hasText = messageText(message).length > 0;
  if (!hasText && !last) return null;
  return (
    <div class="message-actions action-row answer-actions" data-testid="message-actions">
      {hasText && (
        <CopyButton
          text={() => messageText(message)}
          label="Copy this answer as markdown"
          testId="message-copy"
        />
      )}
      {last && (
        <button
          type="button"
          class="icon-button small"
          onClick={() => void actions.regenerate()}
          disabled={actions.busy.value}
          title="Regenerate: ask again in a new session from the last message; this one stays as it is"
          aria-label="Regenerate this answer"
          data-testid="message-regenerate"
        >
          <RefreshIcon size={14} />
        </button>
      )}
    </div>
  );
}
