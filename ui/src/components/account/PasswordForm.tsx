import { useSignal } from "@preact/signals";
import { api } from "../../lib/api.ts";
import { currentUser } from "../../state/auth.ts";
import { FormError, TextField } from "../common/Field.tsx";
import { FormButtons } from "../common/FormButtons.tsx";
import { NewPasswordFields, repeatMismatch } from "../common/NewPasswordFields.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

/**
 * A new password ends every other session of the user; this one goes on with the cookie that the
 * reply sets (the socket the server closed reconnects with it).
 */
export function PasswordForm({ username }: { username: string }) {
  const current = useSignal("");
  const next = useSignal("");
  const repeat = useSignal("");
  const changed = useSignal(false);
  const { error, busy, submit } = useFormSubmit(
    async () => {
      changed.value = false;
      const { user } = await api.changePassword({
        current_password: current.value,
        new_password: next.value,
      });
      currentUser.value = user;
      current.value = "";
      next.value = "";
      repeat.value = "";
      changed.value = true;
    },
    { validate: () => repeatMismatch(next, repeat, "The two new passwords differ.") },
  );

  return (
    <section class="panel" aria-labelledby="password-title">
      <form class="form" onSubmit={submit} data-testid="password-form">
        <h2 id="password-title">Password</h2>
        {/* For password managers: tells them whose password this is. */}
        <input type="text" name="username" autocomplete="username" value={username} readOnly hidden />
        <TextField
          label="Current password"
          value={current}
          type="password"
          autocomplete="current-password"
          required
          data-testid="password-current"
        />
        <NewPasswordFields
          password={next}
          repeat={repeat}
          label="New password"
          repeatLabel="Repeat the new password"
          hint="At least 8 characters and hard to guess: a few uncommon words work well."
          named={false}
          testId="password-new"
          repeatTestId="password-repeat"
        />
        <FormError message={error.value} />
        {changed.value && (
          <p class="form-success" role="status" data-testid="password-changed">
            Password changed. Your other sessions were signed out; API keys keep working.
          </p>
        )}
        <FormButtons busy={busy.value} busyLabel="Changing…" submitTestId="password-save">
          Change password
        </FormButtons>
      </form>
    </section>
  );
}
