import { useSignal } from "@preact/signals";
import type { User } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { FormError, TextField } from "../common/Field.tsx";
import { FormButtons } from "../common/FormButtons.tsx";
import { Modal } from "../common/Modal.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

interface ResetPasswordModalProps {
  user: User;
  onDone: () => void;
  onCancel: () => void;
}

/** The admin sets a new password for someone who lost theirs; the server signs them out everywhere. */
export function ResetPasswordModal({ user, onDone, onCancel }: ResetPasswordModalProps) {
  const password = useSignal("");
  const { error, busy, submit } = useFormSubmit(async () => {
    await api.resetPassword(user.id, password.value);
    onDone();
  });

  return (
    <Modal title={`Reset the password of ${user.username}`} onClose={onCancel} testId="reset-password-dialog">
      <form class="form" onSubmit={submit}>
        <TextField
          label="New password"
          hint={`${user.username} is signed out everywhere and signs in with this password. Their API keys keep working.`}
          value={password}
          type="password"
          autocomplete="new-password"
          required
          minLength={8}
          data-testid="reset-password-input"
        />
        <FormError message={error.value} />
        <FormButtons
          inModal
          onCancel={onCancel}
          busy={busy.value}
          busyLabel="Setting…"
          submitTestId="reset-password-save"
        >
          Set password
        </FormButtons>
      </form>
    </Modal>
  );
}
