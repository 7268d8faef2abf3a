import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A prompt being edited in place. Sending hands the text to `onSend` (which forks and switches to
 * the fork); the editor stays open when that failed, so nothing typed is lost.
 */
export function MessageEditor({
  initial,
  onSend,
  onCancel,
}: {
  initial: string;
  onSend: (text: string) => Promise<boolean>;
  onCancel: () => void;
}) {
  const [text, setText] = useState(initial);
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const area = input.current;
    if (!area) return;
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }, []);
  const blank = text.trim().length === 0;
  const send = async () => {
    if (blank || sending) return;
    setSending(true);
    const sent = await onSend(text);
    // A successful send moved the view to the fork, which unmounts this editor.
    if (!sent) setSending(false);
  };
  return (
    <form
      class="message-editor"
      data-testid="message-editor"
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      <textarea
        ref={input}
        class="message-editor-input"
        aria-label="Edited message"
        value={text}
        rows={Math.min(12, Math.max(2, text.split("\n").length))}
        disabled={sending}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            onCancel();
          } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            void send();
          }
        }}
        data-testid="message-editor-input"
      />
      <p class="message-editor-note muted">
        Sends in a new session from this point; this one stays as it is.
      </p>
      <div class="message-editor-buttons">
        <button type="button" class="button ghost small" onClick={onCancel} disabled={sending}>
          Cancel
        </button>
        <button
          type="submit"
          class="button primary small"
          disabled={blank || sending}
          data-testid="message-editor-send"
        >
          {sending ? "Sending…" : "Send"}
        </button>
      </div>
    </form>
  );
}
