import { Signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { Field } from "./Field.tsx";

export interface SelectOption<T extends string> {
  value: T;
  label: string;
}

/** Either a signal the choice is written to, or a value and what to do with a new choice. */
type SelectBinding<T extends string> =
  | { value: Signal<T>; onChange?: (value: T) => void }
  | { value: T | undefined; onChange: (value: T) => void };

type SelectFieldProps<T extends string> = SelectBinding<T> & {
  label: string;
  hint?: ComponentChildren;
  /** A plain string is an option labelled with its own value. */
  options: readonly (T | SelectOption<T>)[];
  testId: string;
};

/** A labelled `<select>` over a fixed list of options. */
export function SelectField<T extends string>(props: SelectFieldProps<T>) {
  const { label, hint, value, onChange, options, testId } = props;
  const choose = (chosen: T) => {
    if (onChange) onChange(chosen);
    else if (value instanceof Signal) value.value = chosen;
  };
  return (
    <Field label={label} hint={hint}>
      {(control) => (
        <select
          {...control}
          value={value}
          // The options are all of type T, so the chosen value is one of them.
          onChange={(event) => choose(event.currentTarget.value as T)}
          data-testid={testId}
        >
          {options.map((option) => {
            const { value: optionValue, label: optionLabel } =
              typeof option === "string" ? { value: option, label: option } : option;
            return (
              <option key={optionValue} value={optionValue}>
                {optionLabel}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );
}
