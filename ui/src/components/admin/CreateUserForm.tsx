import { useSignal } from "@preact/signals";
import type { Role } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { TextField } from "../common/Field.tsx";
import { PanelForm } from "../common/PanelForm.tsx";
import { SelectField, type SelectOption } from "../common/SelectField.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

const ROLES: readonly SelectOption<Role>[] = [
  { value: "user", label: "User" },
  { value: "admin", label: "Admin" },
];

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
  const form = useFormSubmit(async () => {
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
    <PanelForm
      title="Add a user"
      testId="user-form"
      form={form}
      onCancel={onCancel}
      submitLabel="Create user"
      busyLabel="Creating…"
      submitTestId="new-user-save"
    >
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
        <SelectField
          label="Role"
          hint="Admins also manage users, invites, providers, running sessions and the audit log."
          value={role}
          options={ROLES}
          testId="new-user-role"
        />
      </div>
    </PanelForm>
  );
}
