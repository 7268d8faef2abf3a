import { useSignal } from "@preact/signals";
import type { CreatedApiKey } from "../../../../src/protocol/index.ts";
import { CopyField } from "../common/CopyField.tsx";
import { Modal } from "../common/Modal.tsx";

/** Shows a new key the one time the server returns it; only its hash stays on the server. */
export function NewKeyModal({ created, onClose }: { created: CreatedApiKey; onClose: () => void }) {
  const copyStatus = useSignal("");

  return (
    <Modal title={`API key “${created.name}”`} onClose={onClose} testId="new-api-key-dialog">
      <p class="modal-text">
        Copy the key now: <strong>you will not see it again.</strong> Oqto keeps only a hash of it.
      </p>
      <CopyField
        value={created.key}
        label="New API key"
        testId="new-api-key"
        onCopy={(message) => {
          copyStatus.value = message;
        }}
      />
      <p class="small muted" role="status" data-testid="new-api-key-copy-status">
        {copyStatus.value}
      </p>
      <div class="modal-actions">
        <button type="button" class="button primary" onClick={onClose} data-testid="new-api-key-done">
          I have copied it
        </button>
      </div>
    </Modal>
  );
}
