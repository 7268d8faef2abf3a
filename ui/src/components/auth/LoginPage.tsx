import { useSignal } from "@preact/signals";
import { login } from "../../state/auth.ts";
import { linkHandler } from "../../state/router.ts";
import { useMultiUser } from "../../state/server-mode.ts";
import { TextField } from "../common/Field.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { AuthCard } from "./AuthCard.tsx";
import { AuthForm } from "./AuthForm.tsx";

export function LoginPage() {
  const username = useSignal("");
  const password = useSignal("");
  const multiUser = useMultiUser();
  const form = useFormSubmit(() => login(username.value.trim(), password.value), {
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
      <AuthForm
        testId="login-form"
        form={form}
        submitLabel="Sign in"
        busyLabel="Signing in…"
        submitTestId="login-submit"
      >
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
      </AuthForm>
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
