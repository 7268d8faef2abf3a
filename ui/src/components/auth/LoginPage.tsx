import { useSignal } from "@preact/signals";
import { login } from "../../state/auth.ts";
import { linkHandler } from "../../state/router.ts";
import { useMultiUser } from "../../state/server-mode.ts";
import { FormError, TextField } from "../common/Field.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { AuthCard } from "./AuthCard.tsx";

export function LoginPage() {
  const username = useSignal("");
  const password = useSignal("");
  const multiUser = useMultiUser();
  const { error, busy, submit } = useFormSubmit(() => login(username.value.trim(), password.value), {
    onError: () => {
      password.value = "";
    },
  });

  return (
    <AuthCard
      title="Sign in"
      subtitle={
        multiUser === true
          ? "Use the account you registered or your administrator created for you."
          : "Use the account your administrator created for you."
      }
    >
      <form class="form" onSubmit={submit} data-testid="login-form">
        <TextField
          label="Username"
          value={username}
          name="username"
          autocomplete="username"
          required
          data-testid="login-username"
        />
        <TextField
          label="Password"
          value={password}
          name="password"
          type="password"
          autocomplete="current-password"
          required
          data-testid="login-password"
        />
        <FormError message={error.value} />
        <button type="submit" class="button primary wide" disabled={busy.value} data-testid="login-submit">
          {busy.value ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {/* Only multi-user mode lets people register; elsewhere the link would lead to a refusal. */}
      {multiUser === true && (
        <p class="auth-switch small">
          Got an invite code?{" "}
          <a href="/register" onClick={linkHandler("/register")} data-testid="register-link">
            Create an account
          </a>
        </p>
      )}
    </AuthCard>
  );
}
