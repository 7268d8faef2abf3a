import { useSignal } from "@preact/signals";
import { setupFirstAdmin } from "../../state/auth.ts";
import { TextField } from "../common/Field.tsx";
import { NewPasswordFields, repeatMismatch } from "../common/NewPasswordFields.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { AuthCard } from "./AuthCard.tsx";
import { AuthForm } from "./AuthForm.tsx";

/** First start: the one-time setup token printed by `oqto serve` creates the first admin. */
export function SetupPage() {
  const token = useSignal("");
  const username = useSignal("");
  const password = useSignal("");
  const confirm = useSignal("");
  const form = useFormSubmit(
    () => setupFirstAdmin(token.value.trim(), username.value.trim(), password.value),
    { validate: () => repeatMismatch(password, confirm, "The two passwords differ.") },
  );

  return (
    <AuthCard title="Set up Oqto" subtitle="Create the first administrator account.">
      <AuthForm
        testId="setup-form"
        form={form}
        submitLabel="Create admin and sign in"
        busyLabel="Creating…"
        submitTestId="setup-submit"
      >
        <TextField
          label="Setup token"
          hint={
            <>
              Printed by <code>oqto serve</code> when it starts without an admin. It is valid for 24 hours.
            </>
          }
          value={token}
          name="setup_token"
          autocomplete="off"
          spellcheck={false}
          required
          data-testid="setup-token"
        />
        <TextField
          label="Username"
          hint="3–27 characters: a lowercase letter, then a–z, 0–9, _ or -."
          value={username}
          name="username"
          autocomplete="username"
          required
          data-testid="setup-username"
        />
        <NewPasswordFields
          password={password}
          repeat={confirm}
          testId="setup-password"
          repeatTestId="setup-password-confirm"
        />
      </AuthForm>
    </AuthCard>
  );
}
