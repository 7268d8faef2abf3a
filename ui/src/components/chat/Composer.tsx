import { useEffect, useRef } from "preact/hooks";
import type { ChatSession, SendMode } from "../../state/chat/chat-session.ts";
import { bindValue } from "../common/bind-value.ts";
import { SendIcon, StopIcon } from "../common/icons.tsx";

const MAX_HEIGHT_PX = 240;

/**
 * Idle: Enter sends a prompt. While the agent works: Enter steers (delivered after the current step)
 * and Alt+Enter queues a follow-up (delivered when the run would stop). Shift+Enter is a new line.
 */
export function Composer({ chat, onSent }: { chat: ChatSession; onSent: () => void }) {
  const draft = chat.draft;
  const textarea = useRef<HTMLTextAreaElement>(null);
  const busy = chat.busy.value;
  const unavailable = chat.load.value.status === "failed";

  useEffect(() => {
    const element = textarea.current;
    if (!element) return;
    element.style.height = "auto";
    element.style.height = `${Math.min(element.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [draft.value]);

  const send = (mode: SendMode) => {
    const text = draft.value.trim();
    if (!text || unavailable) return;
    draft.value = "";
    onSent();
    chat.send(text, mode).catch(() => {
      // Not sent: give the text back unless the user already typed something new.
      if (draft.value === "") draft.value = text;
    });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (event.altKey) send(busy ? "follow_up" : "prompt");
    else send(busy ? "steer" : "prompt");
  };

  return (
    <form
      class="composer"
      data-busy={busy}
      onSubmit={(event) => {
        event.preventDefault();
        send(busy ? "steer" : "prompt");
      }}
    >
      <textarea
        ref={textarea}
        rows={1}
        aria-label="Message to the agent"
        aria-keyshortcuts={busy ? "Enter Alt+Enter" : "Enter"}
        placeholder={
          busy
            ? "Steer the agent (Enter) or queue a follow-up (Alt+Enter)…"
            : "Message the agent… (Shift+Enter for a new line)"
        }
        {...bindValue(draft)}
        onKeyDown={onKeyDown}
        disabled={unavailable}
        data-testid="composer-input"
      />
      <div class="composer-actions">
        {busy ? (
          <>
            <button
              type="button"
              class="button ghost small"
              onClick={() => send("follow_up")}
              disabled={!draft.value.trim()}
              title="Deliver when the agent would otherwise stop (Alt+Enter)"
              data-testid="composer-follow-up"
            >
              Follow-up
            </button>
            <button
              type="submit"
              class="button small"
              disabled={!draft.value.trim()}
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
            disabled={!draft.value.trim() || unavailable}
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
