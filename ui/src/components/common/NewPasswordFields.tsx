import type { Signal } from "@preact/signals";
import { TextField } from "./Field.tsx";

interface NewPasswordFieldsProps {
  password: Signal<string>;
  repeat: Signal<string>;
  /** The labels and hint default to the sign-up forms' wording. */
  label?: string;
  repeatLabel?: string;
  hint?: string;
  testId: string;
  repeatTestId: string;
  /** Gives the inputs `name`s, as the sign-up forms do; the account page's form has none. */
  named?: boolean;
}

/** A new password typed twice, so that a typo does not lock its owner out. Check with `repeatMismatch`. */
export function NewPasswordFields({
  password,
  repeat,
  label = "Password",
  repeatLabel = "Repeat password",
  hint = "At least 8 characters and not easy to guess: a few uncommon words work well.",
  testId,
  repeatTestId,
  named = true,
}: NewPasswordFieldsProps) {
  // Both are the new password: browsers and password managers offer to generate and save it.
  const secret = { type: "password", autocomplete: "new-password", required: true } as const;
  return (
    <>
      <TextField
        {...secret}
        label={label}
        hint={hint}
        value={password}
        name={named ? "password" : undefined}
        minLength={8}
        data-testid={testId}
      />
      <TextField
        {...secret}
        label={repeatLabel}
        value={repeat}
        name={named ? "password_confirm" : undefined}
        data-testid={repeatTestId}
      />
    </>
  );
}

/** For `useFormSubmit`'s `validate`: `message` when the two differ, else null. */
export function repeatMismatch(
  password: Signal<string>,
  repeat: Signal<string>,
  message: string,
): string | null {
  return password.value !== repeat.value ? message : null;
}
