import type { ComponentChildren } from "preact";
import { FormError } from "../common/Field.tsx";
import { SubmitButton } from "../common/SubmitButton.tsx";
import type { FormSubmit } from "../common/useFormSubmit.ts";

interface AuthFormProps {
  testId: string;
  /** From `useFormSubmit`: the server's refusal (a taken username, a wrong token) shows above the button. */
  form: FormSubmit;
  submitLabel: string;
  busyLabel: string;
  submitTestId: string;
  /** The fields. */
  children: ComponentChildren;
}

/** The form on a sign-in, setup or sign-up card: fields, then one wide button that also signs in. */
export function AuthForm({ testId, form, submitLabel, busyLabel, submitTestId, children }: AuthFormProps) {
  return (
    <form class="form" onSubmit={form.submit} data-testid={testId}>
      {children}
      <FormError message={form.error.value} />
      <SubmitButton wide busy={form.busy.value} busyLabel={busyLabel} testId={submitTestId}>
        {submitLabel}
      </SubmitButton>
    </form>
  );
}
