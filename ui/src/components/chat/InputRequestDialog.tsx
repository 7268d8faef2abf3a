import { useSignal } from "@preact/signals";
import type { ComponentChild } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { InputRequest } from "../../../../src/protocol/index.ts";
import type { ChatSession, InputAnswer } from "../../state/chat/chat-session.ts";
import { bindValue } from "../common/bind-value.ts";

/** The agent (an extension) asks the user something; the first pending request is shown as a modal. */
export function InputRequestDialog({ chat }: { chat: ChatSession }) {
  const request = chat.pendingInputs.value[0];
  if (!request) return null;
  const answer = (value: InputAnswer) => void chat.answerInput(request.request_id, value);
  return <RequestModal key={request.request_id} request={request} answer={answer} />;
}

function RequestModal({ request, answer }: { request: InputRequest; answer: (value: InputAnswer) => void }) {
  const dialog = useRef<HTMLDivElement>(null);

  // Move focus into the dialog: to the text field, else to the first choice or the affirmative button.
  useEffect(() => {
    dialog.current?.querySelector<HTMLElement>("input, textarea, .button.choice, .button.primary")?.focus();
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") answer({ cancelled: true });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [answer]);

  return (
    <div class="modal-backdrop">
      <div
        ref={dialog}
        class="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="input-request-title"
        data-testid="input-dialog"
        data-kind={request.type}
      >
        <h2 id="input-request-title">{request.title}</h2>
        <RequestBody request={request} answer={answer} />
      </div>
    </div>
  );
}

function RequestBody({ request, answer }: { request: InputRequest; answer: (value: InputAnswer) => void }) {
  const cancel = (
    <button type="button" class="button ghost" onClick={() => answer({ cancelled: true })}>
      Cancel
    </button>
  );
  switch (request.type) {
    case "select":
      return (
        <>
          <div class="choice-list">
            {request.options.map((option) => (
              <button
                key={option}
                type="button"
                class="button choice"
                onClick={() => answer({ value: option })}
              >
                {option}
              </button>
            ))}
          </div>
          <div class="modal-actions">{cancel}</div>
        </>
      );
    case "confirm":
      return (
        <>
          <p class="modal-text">{request.message}</p>
          <div class="modal-actions">
            <button type="button" class="button ghost" onClick={() => answer({ confirmed: false })}>
              No
            </button>
            <button type="button" class="button primary" onClick={() => answer({ confirmed: true })}>
              Yes
            </button>
          </div>
        </>
      );
    case "permission":
      return (
        <>
          {request.description && <p class="modal-text">{request.description}</p>}
          {request.metadata && <pre class="code">{JSON.stringify(request.metadata, null, 2)}</pre>}
          <div class="modal-actions">
            <button type="button" class="button ghost" onClick={() => answer({ confirmed: false })}>
              Deny
            </button>
            <button type="button" class="button primary" onClick={() => answer({ confirmed: true })}>
              Allow
            </button>
          </div>
        </>
      );
    case "input":
      return <TextRequest request={request} answer={answer} cancel={cancel} />;
  }
}

function TextRequest({
  request,
  answer,
  cancel,
}: {
  request: Extract<InputRequest, { type: "input" }>;
  answer: (value: InputAnswer) => void;
  cancel: ComponentChild;
}) {
  const value = useSignal(request.prefill ?? "");
  return (
    <form
      class="form"
      onSubmit={(event) => {
        event.preventDefault();
        answer({ value: value.value });
      }}
    >
      {request.multiline ? (
        <textarea
          class="modal-textarea"
          aria-label={request.title}
          placeholder={request.placeholder}
          {...bindValue(value)}
          rows={8}
        />
      ) : (
        <input aria-label={request.title} placeholder={request.placeholder} {...bindValue(value)} />
      )}
      <div class="modal-actions">
        {cancel}
        <button type="submit" class="button primary">
          Submit
        </button>
      </div>
    </form>
  );
}
