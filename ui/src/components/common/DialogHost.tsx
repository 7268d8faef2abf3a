import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { errorText } from "../../lib/errors.ts";
import { activeDialog, type DialogRequest, settleDialog } from "../../state/dialogs.ts";
import { bindValue } from "./bind-value.ts";
import { FormError } from "./Field.tsx";
import { Modal } from "./Modal.tsx";

/** Renders the dialog that `confirmDialog` / `promptDialog` asked for. */
export function DialogHost() {
  const request = activeDialog.value;
  if (!request) return null;
  return request.kind === "confirm" ? (
    <ConfirmModal key={request.id} request={request} />
  ) : (
    <PromptModal key={request.id} request={request} />
  );
}

function ConfirmModal({ request }: { request: Extract<DialogRequest, { kind: "confirm" }> }) {
  return (
    <Modal title={request.title} onClose={() => settleDialog(request, false)} testId="confirm-dialog">
      <p class="modal-text">{request.message}</p>
      <div class="modal-actions">
        <button
          type="button"
          class="button ghost"
          onClick={() => settleDialog(request, false)}
          data-testid="dialog-cancel"
        >
          Cancel
        </button>
        <button
          type="button"
          class={`button ${request.danger ? "danger" : "primary"}`}
          onClick={() => settleDialog(request, true)}
          data-testid="dialog-confirm"
        >
          {request.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

function PromptModal({ request }: { request: Extract<DialogRequest, { kind: "prompt" }> }) {
  const value = useSignal(request.initial);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useLayoutEffect(() => {
    const element = input.current;
    if (!element) return;
    const dot = request.initial.lastIndexOf(".");
    element.setSelectionRange(0, request.selectStem && dot > 0 ? dot : request.initial.length);
  }, []);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    busy.value = true;
    error.value = null;
    try {
      await request.action(value.value);
      settleDialog(request, true);
    } catch (caught) {
      error.value = errorText(caught);
    } finally {
      busy.value = false;
    }
  };

  return (
    <Modal title={request.title} onClose={() => settleDialog(request, false)} testId="prompt-dialog">
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span class="field-label">{request.label}</span>
          <input ref={input} {...bindValue(value)} spellcheck={false} data-testid="dialog-input" />
        </label>
        <FormError message={error.value} />
        <div class="modal-actions">
          <button
            type="button"
            class="button ghost"
            onClick={() => settleDialog(request, false)}
            data-testid="dialog-cancel"
          >
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy.value} data-testid="dialog-confirm">
            {request.confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}
