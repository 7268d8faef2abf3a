import type { ComponentChildren } from "preact";
import { SubmitButton } from "./SubmitButton.tsx";

interface FormButtonsProps {
  /** Without it, only the submit button: a form that stays on the page has nothing to cancel. */
  onCancel?: () => void;
  /** "Close" where leaving loses nothing. */
  cancelLabel?: string;
  /** In a dialog the buttons sit in its footer; on a page, under the form. */
  inModal?: boolean;
  busy: boolean;
  disabled?: boolean;
  busyLabel?: string;
  submitTestId: string;
  /** The submit button's text. */
  children: ComponentChildren;
}

/** The row that ends a form: Cancel, then the primary submit button. */
export function FormButtons(props: FormButtonsProps) {
  const {
    onCancel,
    cancelLabel = "Cancel",
    inModal = false,
    busy,
    disabled,
    busyLabel,
    submitTestId,
  } = props;
  return (
    <div class={inModal ? "modal-actions" : "form-actions"}>
      {onCancel && (
        <button type="button" class="button ghost" onClick={onCancel}>
          {cancelLabel}
        </button>
      )}
      <SubmitButton busy={busy} disabled={disabled} busyLabel={busyLabel} testId={submitTestId}>
        {props.children}
      </SubmitButton>
    </div>
  );
}
