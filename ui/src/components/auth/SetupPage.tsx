import { useSignal } from "@preact/signals";
import { setupFirstAdmin } from "../../state/auth.ts";
import { FormError, TextField } from "../common/Field.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { AuthCard } from "./AuthCard.tsx";

/** First start: the one-time setup token printed by `oqto serve` creates the first admin. */
export function SetupPage() {
  const token = useSignal("");
  const username = useSignal("");
  const password = useSignal("");
  const confirm = useSignal("");
  const { error, busy, submit } = useFormSubmit(
    () => setupFirstAdmin(token.value.trim(), username.value.trim(), password.value),
    { validate: () => (password.value !== confirm.value ? "The two passwords differ." : null) },
  );

  return (
    <AuthCard title="Set up Oqto" subtitle="Create the first administrator account.">
      <form class="form" onSubmit={submit} data-testid="setup-form">
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
        <TextField
          label="Password"
          hint="At least 8 characters and not easy to guess: a few uncommon words work well."
          value={password}
          name="password"
          type="password"
          autocomplete="new-password"
          required
          minLength={8}
          data-testid="setup-password"
        />
        <TextField
          label="Repeat password"
          value={confirm}
          name="password_confirm"
          type="password"
          autocomplete="new-password"
          required
          data-testid="setup-password-confirm"
        />
        <FormError message={error.value} />
        <button type="submit" class="button primary wide" disabled={busy.value} data-testid="setup-submit">
          {busy.value ? "Creating…" : "Create admin and sign in"}
        </button>
      </form>
    </AuthCard>
  );
}
