import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { describeSandbox } from "../../lib/sandbox-summary.ts";
import { applySandboxProfile, loadSandbox, sandboxOf, selectableProfiles } from "../../state/sandbox.ts";
import { FormError } from "../common/Field.tsx";
import { FormButtons } from "../common/FormButtons.tsx";
import { Modal } from "../common/Modal.tsx";
import { SelectField } from "../common/SelectField.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

/** What the workspace's sandbox allows, and a choice of stricter profiles to apply. */
export function SandboxDialog({ workspace, onClose }: { workspace: string; onClose: () => void }) {
  const { view, error: loadError } = sandboxOf(workspace).value;
  const choice = useSignal<string | null>(null);
  const options = view ? selectableProfiles(view) : [];
  // Until the user picks one (or when a reload removed their pick), the profile in force is selected.
  const selected = choice.value !== null && options.includes(choice.value) ? choice.value : view?.profile;
  const { error, busy, submit } = useFormSubmit(async () => {
    if (selected) await applySandboxProfile(workspace, selected);
    onClose();
  });

  // Another tab or the CLI may have changed the profile since the badge loaded it.
  useEffect(() => {
    void loadSandbox(workspace);
  }, [workspace]);

  return (
    <Modal title={`Sandbox of ${workspace}`} onClose={onClose} testId="sandbox-dialog">
      <FormError message={loadError} />
      {!view && !loadError && <p class="muted">Loading…</p>}
      {view && (
        <form class="form" onSubmit={submit} aria-label="Sandbox profile">
          <p class="modal-text" data-testid="sandbox-summary">
            <strong>{view.profile}</strong> — {describeSandbox(view.enabled, view.effective)}
          </p>
          <SelectField
            label="Profile"
            value={selected}
            options={options}
            onChange={(profile) => {
              choice.value = profile;
            }}
            testId="sandbox-select"
          />
          <p class="sandbox-warning" role="note">
            A workspace can only be made stricter: once applied, looser profiles are no longer offered.
          </p>
          <FormError message={error.value} />
          <FormButtons
            inModal
            onCancel={onClose}
            cancelLabel="Close"
            busy={busy.value}
            disabled={selected === view.profile}
            submitTestId="sandbox-apply"
          >
            Apply
          </FormButtons>
        </form>
      )}
    </Modal>
  );
}
