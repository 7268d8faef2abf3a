import { useEffect, useRef, useState } from "preact/hooks";
import type { Model } from "../../../../src/protocol/index.ts";
import { droppedFiles } from "../../lib/dropped-files.ts";
import type { ChatSession, SendMode } from "../../state/chat/chat-session.ts";
import { sessionListIsDrawer } from "../../state/narrow-layout.ts";
import { SendIcon, StopIcon } from "../common/icons.tsx";
import { AttachmentTray } from "./composer/AttachmentTray.tsx";
import { builtinInvocation } from "./composer/builtin-commands.ts";
import { CompletionList, completionOptionId } from "./composer/CompletionList.tsx";
import { attachmentsFor, toImageInputs } from "./composer/composer-attachments.ts";
import { insertAtCaret, pastedFiles, takeFiles } from "./composer/file-intake.ts";
import { useCompletion } from "./composer/useCompletion.ts";

const MAX_HEIGHT_PX = 240;

/**
 * Idle: Enter sends a prompt. While the agent works: Enter steers (delivered after the current step)
 * and Alt+Enter queues a follow-up (delivered when the run would stop). Shift+Enter is a new line.
 * `/` at the start lists pi's commands, `@` completes workspace paths; pasted or dropped images go
 * with the message, other dropped files are uploaded into the workspace and their path is inserted.
 */
export function Composer({
  chat,
  onSent,
  model,
}: {
  chat: ChatSession;
  onSent: () => void;
  /** The session's model, when known (whether it takes images). */
  model?: Model | undefined;
}) {
  const draft = chat.draft;
  const textarea = useRef<HTMLTextAreaElement>(null);
  const busy = chat.busy.value;
  const unavailable = chat.load.value.status === "failed";
  const attachments = attachmentsFor(chat);
  const completion = useCompletion(chat, draft, textarea);
  const [dragging, setDragging] = useState(false);
  const listId = `completion-${chat.id}`;
  const canSend = draft.value.trim() !== "" && !unavailable;

  useEffect(() => {
    const element = textarea.current;
    if (!element) return;
    element.style.height = "auto";
    element.style.height = `${Math.min(element.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [draft.value]);

  const send = (mode: SendMode) => {
    const text = draft.value.trim();
    if (!text || unavailable) return;
    const builtin = builtinInvocation(text);
    if (builtin) {
      const { command, args } = builtin;
      if (command.requires && !args) {
        attachments.notice.value = `/${command.name} needs ${command.requires}.`;
        return;
      }
      draft.value = "";
      void command.run(chat, args);
      return;
    }
    const images = attachments.takeImages();
    draft.value = "";
    onSent();
    chat.send(text, mode, toImageInputs(images)).catch(() => {
      // Not sent: give the text and images back unless the user already began a new message.
      if (draft.value === "") draft.value = text;
      attachments.restoreImages(images);
    });
  };

  const insertPath = (path: string) => insertAtCaret(draft, textarea.current, path);

  const onKeyDown = (event: KeyboardEvent) => {
    if (completion.onKeyDown(event)) {
      // The popup's key: Escape closes only the popup, not a drawer or dialog around it.
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (event.altKey) send(busy ? "follow_up" : "prompt");
    else send(busy ? "steer" : "prompt");
  };

  const onPaste = (event: ClipboardEvent) => {
    const files = pastedFiles(event.clipboardData);
    if (files.length === 0) return;
    event.preventDefault();
    takeFiles(files, attachments, chat.workspace.name, insertPath);
  };

  const onDrop = (event: DragEvent) => {
    setDragging(false);
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    void droppedFiles(event.dataTransfer).then((files) =>
      takeFiles(files, attachments, chat.workspace.name, insertPath),
    );
  };

  const activeOption =
    completion.open && completion.items.length > 0
      ? completionOptionId(listId, completion.active)
      : undefined;

  return (
    <form
      class="composer"
      data-busy={busy}
      data-dragging={dragging}
      onSubmit={(event) => {
        event.preventDefault();
        send(busy ? "steer" : "prompt");
      }}
      onDragOver={(event) => {
        if (!event.dataTransfer?.types.includes("Files")) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <div class="composer-body">
        <AttachmentTray
          attachments={attachments}
          warning={
            model && !model.input.includes("image")
              ? `${model.name} does not take images: the agent gets a placeholder instead.`
              : null
          }
        />
        {completion.open && (
          <CompletionList
            id={listId}
            label={completion.kind === "command" ? "Commands" : "Workspace paths"}
            items={completion.items}
            active={completion.active}
            status={completion.status}
            onChoose={completion.choose}
            onHover={completion.setActive}
          />
        )}
        <textarea
          ref={textarea}
          rows={1}
          aria-label="Message to the agent"
          aria-keyshortcuts={busy ? "Enter Alt+Enter" : "Enter"}
          aria-autocomplete="list"
          aria-controls={completion.open ? listId : undefined}
          aria-activedescendant={activeOption}
          placeholder={
            // A phone's line holds about 40 characters: the key hints would be cut off there.
            sessionListIsDrawer.value
              ? busy
                ? "Steer the agent…"
                : "Message the agent… (/ commands, @ files)"
              : busy
                ? "Steer the agent (Enter) or queue a follow-up (Alt+Enter)…"
                : "Message the agent… (/ for commands, @ for files, Shift+Enter for a new line)"
          }
          value={draft}
          onInput={(event) => {
            draft.value = event.currentTarget.value;
            completion.track();
          }}
          onKeyDown={onKeyDown}
          onKeyUp={completion.track}
          onClick={completion.track}
          onPaste={onPaste}
          disabled={unavailable}
          data-testid="composer-input"
        />
      </div>
      <div class="composer-actions">
        {busy ? (
          <>
            <button
              type="button"
              class="button ghost small"
              onClick={() => send("follow_up")}
              disabled={!canSend}
              title="Deliver when the agent would otherwise stop (Alt+Enter)"
              data-testid="composer-follow-up"
            >
              Follow-up
            </button>
            <button
              type="submit"
              class="button small"
              disabled={!canSend}
              title="Deliver after the current step (Enter)"
              data-testid="composer-steer"
            >
              Steer
            </button>
            <button
              type="button"
              class="button danger small"
              onClick={() => void chat.abort()}
              disabled={chat.state.value === "aborting"}
              aria-label="Abort the agent"
              data-testid="abort-button"
            >
              <StopIcon size={14} /> {chat.state.value === "aborting" ? "Stopping…" : "Stop"}
            </button>
          </>
        ) : (
          <button
            type="submit"
            class="button primary icon-only"
            disabled={!canSend}
            aria-label="Send"
            data-testid="composer-send"
          >
            <SendIcon />
          </button>
        )}
      </div>
    </form>
  );
}
