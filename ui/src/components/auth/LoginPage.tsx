import { useSignal } from "@preact/signals";
import { errorText } from "../../lib/errors.ts";
import { login } from "../../state/auth.ts";
import { Field, FormError } from "../common/Field.tsx";
import { AuthCard } from "./AuthCard.tsx";

export function LoginPage() {
  const username = useSignal("");
  const password = useSignal("");
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    busy.value = true;
    error.value = null;
    try {
      await login(username.value.trim(), password.value);
    } catch (caught) {
      error.value = errorText(caught);
      password.value = "";
    } finally {
      busy.value = false;
    }
  };

  return (
    <AuthCard title="Sign in" subtitle="Use the account your administrator created for you.">
      <form class="form" onSubmit={submit} data-testid="login-form">
        <Field label="Username">
          {(control) => (
            <input
              {...control}
              name="username"
              autocomplete="username"
              required
              value={username}
              onInput={(e) => {
                username.value = e.currentTarget.value;
              }}
              data-testid="login-username"
            />
          )}
        </Field>
        <Field label="Password">
          {(control) => (
            <input
              {...control}
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => {
                password.value = e.currentTarget.value;
              }}
              data-testid="login-password"
            />
          )}
        </Field>
        <FormError message={error.value} />
        <button type="submit" class="button primary wide" disabled={busy.value} data-testid="login-submit">
          {busy.value ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </AuthCard>
  );
}
