import { useSignal } from "@preact/signals";
import { errorText } from "../../lib/errors.ts";
import { setupFirstAdmin } from "../../state/auth.ts";
import { Field, FormError } from "../common/Field.tsx";
import { AuthCard } from "./AuthCard.tsx";

/** First start: the one-time setup token printed by `oqto serve` creates the first admin. */
export function SetupPage() {
  const token = useSignal("");
  const username = useSignal("");
  const password = useSignal("");
  const confirm = useSignal("");
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (password.value !== confirm.value) {
      error.value = "The two passwords differ.";
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      await setupFirstAdmin(token.value.trim(), username.value.trim(), password.value);
    } catch (caught) {
      error.value = errorText(caught);
    } finally {
      busy.value = false;
    }
  };

  const bind = (target: typeof token) => (e: { currentTarget: HTMLInputElement }) => {
    target.value = e.currentTarget.value;
  };

  return (
    <AuthCard title="Set up Oqto" subtitle="Create the first administrator account.">
      <form class="form" onSubmit={submit} data-testid="setup-form">
        <Field
          label="Setup token"
          hint={
            <>
              Printed by <code>oqto serve</code> when it starts without an admin. It is valid for 24 hours.
            </>
          }
        >
          {(control) => (
            <input
              {...control}
              name="setup_token"
              autocomplete="off"
              spellcheck={false}
              required
              value={token}
              onInput={bind(token)}
              data-testid="setup-token"
            />
          )}
        </Field>
        <Field label="Username" hint="3–27 characters: a lowercase letter, then a–z, 0–9, _ or -.">
          {(control) => (
            <input
              {...control}
              name="username"
              autocomplete="username"
              required
              value={username}
              onInput={bind(username)}
              data-testid="setup-username"
            />
          )}
        </Field>
        <Field label="Password" hint="At least 8 characters.">
          {(control) => (
            <input
              {...control}
              name="password"
              type="password"
              autocomplete="new-password"
              required
              minLength={8}
              value={password}
              onInput={bind(password)}
              data-testid="setup-password"
            />
          )}
        </Field>
        <Field label="Repeat password">
          {(control) => (
            <input
              {...control}
              name="password_confirm"
              type="password"
              autocomplete="new-password"
              required
              value={confirm}
              onInput={bind(confirm)}
              data-testid="setup-password-confirm"
            />
          )}
        </Field>
        <FormError message={error.value} />
        <button type="submit" class="button primary wide" disabled={busy.value} data-testid="setup-submit">
          {busy.value ? "Creating…" : "Create admin and sign in"}
        </button>
      </form>
    </AuthCard>
  );
}
