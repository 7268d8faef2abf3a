import { useSignal } from "@preact/signals";
import type { User } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { currentUser } from "../../state/auth.ts";
import { FormError, TextField } from "../common/Field.tsx";
import { FormButtons } from "../common/FormButtons.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

/** Display name and e-mail; an emptied field clears the value on the server. */
export function ProfileForm({ user }: { user: User }) {
  const displayName = useSignal(user.display_name ?? "");
  const email = useSignal(user.email ?? "");
  const saved = useSignal(false);
  const { error, busy, submit } = useFormSubmit(async () => {
    saved.value = false;
    currentUser.value = await api.updateMe({
      display_name: displayName.value.trim() || null,
      email: email.value.trim() || null,
    });
    saved.value = true;
  });

  return (
    <section class="panel" aria-labelledby="profile-title">
      <form
        class="form"
        onSubmit={submit}
        onInput={() => {
          saved.value = false;
        }}
        data-testid="profile-form"
      >
        <h2 id="profile-title">Profile</h2>
        <TextField
          label="Display name"
          hint="Shown instead of your username. Leave it empty to show the username."
          value={displayName}
          autocomplete="name"
          maxLength={200}
          data-testid="profile-display-name"
        />
        <TextField
          label="E-mail"
          hint="Optional."
          value={email}
          type="email"
          autocomplete="email"
          data-testid="profile-email"
        />
        <FormError message={error.value} />
        {saved.value && (
          <p class="form-success" role="status" data-testid="profile-saved">
            Saved.
          </p>
        )}
        <FormButtons busy={busy.value} busyLabel="Saving…" submitTestId="profile-save">
          Save profile
        </FormButtons>
      </form>
    </section>
  );
}
