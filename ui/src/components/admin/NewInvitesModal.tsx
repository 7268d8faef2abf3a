import { useSignal } from "@preact/signals";
import type { CreatedInvites } from "../../../../src/protocol/index.ts";
import { CopyField } from "../common/CopyField.tsx";
import { CopyIcon } from "../common/icons.tsx";
import { Modal } from "../common/Modal.tsx";

/** The link that opens the registration page with the code filled in. */
function registrationLink(code: string): string {
  return `${location.origin}/register?code=${encodeURIComponent(code)}`;
}

/** Shows new codes the one time the server returns them; only their hashes stay on the server. */
export function NewInvitesModal({
  invites,
  onClose,
}: {
  invites: CreatedInvites["invites"];
  onClose: () => void;
}) {
  const copyStatus = useSignal("");
  const report = (message: string) => {
    copyStatus.value = message;
  };
  const many = invites.length > 1;

  const copyAll = async () => {
    const lines = invites.map((invite) => `${invite.code}  ${registrationLink(invite.code)}`);
    try {
      await navigator.clipboard.writeText(`${lines.join("\n")}\n`);
      report(`All ${invites.length} codes and links copied to the clipboard.`);
    } catch {
      report("The browser did not allow copying: copy the codes one by one, or select them.");
    }
  };

  return (
    <Modal
      title={many ? `${invites.length} new invite codes` : "New invite code"}
      onClose={onClose}
      testId="new-invites-dialog"
    >
      <p class="modal-text">
        Copy {many ? "the codes" : "the code"} now:{" "}
        <strong>you will not see {many ? "them" : "it"} again.</strong> Send each person a registration link:
        it opens the sign-up page with the code filled in.
      </p>
      <ol class="invite-reveal-list" aria-label="New invite codes">
        {invites.map((invite, index) => {
          const name = many ? ` ${index + 1}` : "";
          return (
            <li key={invite.id} class="invite-reveal" data-testid="new-invite">
              <CopyField
                value={invite.code}
                label={`Invite code${name}`}
                testId="new-invite-code"
                onCopy={report}
              />
              <CopyField
                value={registrationLink(invite.code)}
                label={`Registration link${name}`}
                testId="new-invite-link"
                onCopy={report}
              />
            </li>
          );
        })}
      </ol>
      <p class="small muted" role="status" data-testid="new-invites-copy-status">
        {copyStatus.value}
      </p>
      <div class="modal-actions">
        {many && (
          <button
            type="button"
            class="button"
            onClick={() => void copyAll()}
            data-testid="new-invites-copy-all"
          >
            <CopyIcon /> Copy all
          </button>
        )}
        <button type="button" class="button primary" onClick={onClose} data-testid="new-invites-done">
          I have copied {many ? "them" : "it"}
        </button>
      </div>
    </Modal>
  );
}
