import { useSignal } from "@preact/signals";
import { register } from "../../state/auth.ts";
import { linkHandler } from "../../state/router.ts";
import { useMultiUser } from "../../state/server-mode.ts";
import { TextField } from "../common/Field.tsx";
import { NewPasswordFields, repeatMismatch } from "../common/NewPasswordFields.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { AuthCard } from "./AuthCard.tsx";
import { AuthForm } from "./AuthForm.tsx";

/** A new account from an invite code; an invite link (`/register?code=…`) fills the code in. */
export function RegisterPage() {
  const multiUser = useMultiUser();
  if (multiUser === undefined) {
    return (
      <AuthCard title="Create an account" subtitle="Asking the server…">
        <p class="muted" aria-busy="true">
          Loading…
        </p>
      </AuthCard>
    );
  }
  if (multiUser === false) {
    return (
      <AuthCard title="Create an account" subtitle="Registration is not available on this server.">
        <p class="notice" data-testid="register-unavailable">
          Registration needs multi-user mode (<code>oqto serve --multi-user</code>), where every account gets
          a Linux user of its own. This server runs in single-user mode: an administrator adds accounts.
        </p>
        <SignInLink />
      </AuthCard>
    );
  }
  // `null` (the mode is unknown) shows the form too: the server's answer then says what is wrong.
  return <RegisterForm />;
}

function RegisterForm() {
  const code = useSignal(new URLSearchParams(location.search).get("code") ?? "");
  const username = useSignal("");
  const displayName = useSignal("");
  const password = useSignal("");
  const confirm = useSignal("");
  const form = useFormSubmit(
    () => {
      const name = displayName.value.trim();
      return register({
        invite_code: code.value.trim(),
        username: username.value.trim(),
        password: password.value,
        ...(name && { display_name: name }),
      });
    },
    { validate: () => repeatMismatch(password, confirm, "The two passwords differ.") },
  );

  return (
    <AuthCard title="Create an account" subtitle="An administrator gave you an invite code or link.">
      <AuthForm
        testId="register-form"
        form={form}
        submitLabel="Create account and sign in"
        busyLabel="Creating your account…"
        submitTestId="register-submit"
      >
        <TextField
          label="Invite code"
          hint="From your invite link or your administrator; case and dashes do not matter."
          value={code}
          name="invite_code"
          class="code-input"
          autocomplete="off"
          spellcheck={false}
          required
          data-testid="register-code"
        />
        <TextField
          label="Username"
          hint="3–27 characters: a lowercase letter, then a–z, 0–9, _ or -. It cannot be changed later."
          value={username}
          name="username"
          autocomplete="username"
          spellcheck={false}
          required
          data-testid="register-username"
        />
        <TextField
          label="Display name"
          hint="Optional: how Oqto shows your name."
          value={displayName}
          name="display_name"
          autocomplete="name"
          maxLength={200}
          data-testid="register-display-name"
        />
        <NewPasswordFields
          password={password}
          repeat={confirm}
          testId="register-password"
          repeatTestId="register-password-confirm"
        />
      </AuthForm>
      <SignInLink />
    </AuthCard>
  );
}

function SignInLink() {
  return (
    <p class="auth-switch small">
      Already have an account?{" "}
      <a href="/login" onClick={linkHandler("/login")} data-testid="register-login-link">
        Sign in
      </a>
    </p>
  );
}
