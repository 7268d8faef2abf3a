import type { ComponentChildren } from "preact";

interface SubmitButtonProps {
  /** The submit is running: the button is disabled, so a double click sends once, and says `busyLabel`. */
  busy: boolean;
  /** Disabled for another reason too, such as nothing to change yet. */
  disabled?: boolean;
  busyLabel?: string;
  /** As wide as the form, as on the sign-in cards. */
  wide?: boolean;
  testId: string;
  children: ComponentChildren;
}

/** A form's primary button. */
export function SubmitButton({
  busy,
  disabled = false,
  busyLabel,
  wide = false,
  testId,
  children,
}: SubmitButtonProps) {
  return (
    <button
      type="submit"
      class={wide ? "button primary wide" : "button primary"}
      disabled={busy || disabled}
      data-testid={testId}
    >
      {busy && busyLabel !== undefined ? busyLabel : children}
    </button>
  );
}
