import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import type { CreatedApiKey } from "../../../../src/protocol/index.ts";
import { CopyIcon } from "../common/icons.tsx";
import { Modal } from "../common/Modal.tsx";

/** Shows a new key the one time the server returns it; only its hash stays on the server. */
export function NewKeyModal({ created, onClose }: { created: CreatedApiKey; onClose: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const copyStatus = useSignal("");

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      copyStatus.value = "Copied to the clipboard.";
    } catch {
      // The clipboard API needs a secure context and the browser's consent; selecting still works.
      input.current?.select();
      copyStatus.value = "The browser did not allow copying: the key is selected, press Ctrl+C (⌘C).";
    }
  };

  return (
    <Modal title={`API key “${created.name}”`} onClose={onClose} testId="new-api-key-dialog">
      <p class="modal-text">
        Copy the key now: <strong>you will not see it again.</strong> Oqto keeps only a hash of it.
      </p>
      <div class="key-reveal">
        <input
          ref={input}
          class="mono"
          value={created.key}
          readOnly
          spellcheck={false}
          aria-label="The new API key"
          onFocus={(event) => event.currentTarget.select()}
          data-testid="new-api-key"
        />
        <button type="button" class="button" onClick={() => void copy()} data-testid="new-api-key-copy">
          <CopyIcon /> Copy
        </button>
      </div>
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
