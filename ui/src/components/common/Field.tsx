import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";

/** Attributes that tie a control to its label and hint. */
export interface FieldControl {
  id: string;
  "aria-describedby"?: string;
}

interface FieldProps {
  label: string;
  hint?: ComponentChildren;
  children: (control: FieldControl) => ComponentChildren;
}

/** A labelled form control: the control spreads the given `id` (and hint reference) onto itself. */
export function Field({ label, hint, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div class="field">
      <label class="field-label" for={id}>
        {label}
      </label>
      {children(hint ? { id, "aria-describedby": hintId } : { id })}
      {hint && (
        <span class="field-hint" id={hintId}>
          {hint}
        </span>
      )}
    </div>
  );
}

export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="form-error" role="alert" data-testid="form-error">
      {message}
    </p>
  );
}
