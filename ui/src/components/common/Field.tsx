import type { Signal } from "@preact/signals";
import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useId } from "preact/hooks";
import { bindValue } from "./bind-value.ts";

/** Attributes that tie a control to its label and hint. */
export interface FieldControl {
  id: string;
  "aria-describedby"?: string;
  "aria-invalid"?: true;
}

interface FieldProps {
  label: string;
  hint?: ComponentChildren;
  /** What is wrong with the value (such as the server's reason for refusing it), shown under the control. */
  error?: string | null | undefined;
  children: (control: FieldControl) => ComponentChildren;
}

/** A labelled form control: the control spreads the given `id` (and hint and error references) onto itself. */
export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : null, error ? errorId : null].filter((each) => each !== null).join(" ");
  return (
    <div class="field" data-invalid={error ? "true" : undefined}>
      <label class="field-label" for={id}>
        {label}
      </label>
      {children({
        id,
        ...(described && { "aria-describedby": described }),
        ...(error && { "aria-invalid": true as const }),
      })}
      {error && (
        <span class="field-error" id={errorId} data-testid="field-error">
          {error}
        </span>
      )}
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
  error?: string | null | undefined;
  value: Signal<string>;
};

/** A labelled `<input>` bound to a string signal; other props go to the input. */
export function TextField({ label, hint, error, value, ...input }: TextFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
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
