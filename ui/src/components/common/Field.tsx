import type { Signal } from "@preact/signals";
import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useId } from "preact/hooks";
import { bindValue } from "./bind-value.ts";

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

/** `Omit` for each member of a union: preact types `<input>` props as one union per `type`. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type TextFieldProps = OmitEach<
  InputHTMLAttributes<HTMLInputElement>,
  "id" | "label" | "value" | "onInput"
> & {
  label: string;
  hint?: ComponentChildren;
  value: Signal<string>;
};

/** A labelled `<input>` bound to a string signal; other props go to the input. */
export function TextField({ label, hint, value, ...input }: TextFieldProps) {
  return (
    <Field label={label} hint={hint}>
      {(control) => <input {...control} {...input} {...bindValue(value)} />}
    </Field>
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
