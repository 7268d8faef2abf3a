import { useSignal } from "@preact/signals";
import type { Role } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { Field, FormError, TextField } from "../common/Field.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

interface CreateUserFormProps {
  onCreated: () => Promise<void>;
  onCancel: () => void;
}

/** A new account: the admin picks the first password and tells it to its owner. */
export function CreateUserForm({ onCreated, onCancel }: CreateUserFormProps) {
  const username = useSignal("");
  const displayName = useSignal("");
  const email = useSignal("");
  const password = useSignal("");
  const role = useSignal<Role>("user");
  const { error, busy, submit } = useFormSubmit(async () => {
    const name = displayName.value.trim();
    const mail = email.value.trim();
    await api.createUser({
      username: username.value.trim(),
      password: password.value,
      role: role.value,
      ...(name && { display_name: name }),
      ...(mail && { email: mail }),
    });
    await onCreated();
  });

  return (
    <form class="form panel" onSubmit={submit} aria-label="Add a user" data-testid="user-form">
      <h2>Add a user</h2>
      <div class="form-grid">
        <TextField
          label="Username"
          hint="3–27 characters: a lowercase letter, then a–z, 0–9, _ or -."
          value={username}
          autocomplete="off"
          spellcheck={false}
          required
          data-testid="new-user-username"
        />
        <TextField
          label="Display name"
          hint="Optional."
          value={displayName}
          autocomplete="off"
          data-testid="new-user-display-name"
        />
        <TextField
          label="E-mail"
          hint="Optional."
          value={email}
          type="email"
          autocomplete="off"
          data-testid="new-user-email"
        />
        <TextField
          label="Password"
          hint="At least 8 characters and hard to guess. Tell it to the user; they can change it."
          value={password}
          type="password"
          autocomplete="new-password"
          required
          minLength={8}
          data-testid="new-user-password"
        />
        <Field
          label="Role"
          hint="Admins also manage users, invites, providers, running sessions and the audit log."
        >
          {(control) => (
            <select
              {...control}
              value={role}
              onChange={(e) => {
                role.value = e.currentTarget.value as Role;
              }}
              data-testid="new-user-role"
            >
              <option value="user">User</option>
              <option value="admin">Admin</option>
            </select>
          )}
        </Field>
      </div>
      <FormError message={error.value} />
      <div class="form-actions">
        <button type="button" class="button ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="button primary" disabled={busy.value} data-testid="new-user-save">
          {busy.value ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}
