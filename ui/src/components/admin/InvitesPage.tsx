import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { CreatedInvites, InviteCode } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { confirmDialog } from "../../state/dialogs.ts";
import { useMultiUser } from "../../state/server-mode.ts";
import { PlusIcon } from "../common/icons.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { RelativeTime } from "../common/RelativeTime.tsx";
import { CreateInviteForm } from "./CreateInviteForm.tsx";
import { NewInvitesModal } from "./NewInvitesModal.tsx";

const STATE_LABELS: Record<InviteCode["state"], string> = {
  active: "active",
  used_up: "used up",
  expired: "expired",
  revoked: "revoked",
};
const STATE_CLASSES: Record<InviteCode["state"], string> = {
  active: "badge",
  used_up: "badge",
  expired: "badge warning",
  revoked: "badge danger",
};

/** Admin: invite codes, with which people make their own accounts in multi-user mode. */
export function InvitesPage() {
  const invites = useSignal<InviteCode[] | null>(null);
  const error = useSignal<string | null>(null);
  const creating = useSignal(false);
  const created = useSignal<CreatedInvites["invites"] | null>(null);
  const multiUser = useMultiUser();

  const reload = async () => {
    try {
      invites.value = await api.listInvites();
      error.value = null;
    } catch (caught) {
      error.value = errorText(caught);
    }
  };

  useEffect(() => {
    void reload();
  }, []);

  const revoke = async (invite: InviteCode) => {
    const confirmed = await confirmDialog({
      title: `Revoke the invite ${invite.prefix}…?`,
      message: `Nobody can register with it from now on (${invite.remaining} of ${invite.max_uses} uses left). Accounts already made with it stay.`,
      confirmLabel: "Revoke invite",
      danger: true,
    });
    if (!confirmed) return;
    error.value = null;
    try {
      await api.revokeInvite(invite.id);
    } catch (caught) {
      error.value = errorText(caught);
    }
    await reload();
  };

  return (
    <ListPage
      titleId="invites-title"
      title="Invites"
      intro="People create their own account with an invite code. A code is shown only once, when it is made."
      actions={
        !creating.value && (
          <button
            type="button"
            class="button primary"
            onClick={() => {
              creating.value = true;
            }}
            data-testid="invite-add"
          >
            <PlusIcon /> New invite
          </button>
        )
      }
      error={error.value}
      items={invites.value}
      loadingText="Loading invite codes…"
      empty={<p>No invite codes yet.</p>}
      renderList={(list) => (
        <div class="table-scroll">
          <table class="data-table" aria-label="Invite codes">
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">State</th>
                <th scope="col">Uses</th>
                <th scope="col">Expires</th>
                <th scope="col">Note</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((invite) => (
                <tr
                  key={invite.id}
                  data-testid="invite-row"
                  data-prefix={invite.prefix}
                  data-state={invite.state}
                  data-active={String(invite.state === "active")}
                >
                  <th scope="row" data-label="Code">
                    <code>{invite.prefix}…</code>
                  </th>
                  <td data-label="State">
                    <span
                      class={STATE_CLASSES[invite.state]}
                      data-ok={invite.state === "active"}
                      data-testid="invite-state"
                    >
                      {STATE_LABELS[invite.state]}
                    </span>
                  </td>
                  {/* One child per cell: a phone's card layout spreads a cell's children apart. */}
                  <td data-label="Uses" data-testid="invite-uses-cell">
                    <span>
                      {invite.uses} of {invite.max_uses}
                      {invite.state === "active" && <span class="muted"> ({invite.remaining} left)</span>}
                    </span>
                  </td>
                  <td data-label="Expires">
                    {invite.expires_at === undefined ? (
                      <span class="muted">never</span>
                    ) : (
                      <RelativeTime ms={invite.expires_at} />
                    )}
                  </td>
                  <td data-label="Note" class="invite-note">
                    {invite.note ?? <span class="muted">—</span>}
                  </td>
                  <td data-label="Created">
                    <span>
                      <RelativeTime ms={invite.created_at} />
                      {invite.created_by && <span class="muted"> by {invite.created_by}</span>}
                    </span>
                  </td>
                  <td class="row-actions">
                    {invite.state === "active" && (
                      <button
                        type="button"
                        class="button ghost small"
                        onClick={() => void revoke(invite)}
                        aria-label={`Revoke the invite ${invite.prefix}`}
                        data-testid="invite-revoke"
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    >
      {multiUser === false && (
        <p class="notice" data-testid="invites-single-user-note">
          <strong>Single-user mode.</strong> Registration needs multi-user mode: these codes work once the
          server runs with <code>oqto serve --multi-user</code>.
        </p>
      )}
      {creating.value && (
        <CreateInviteForm
          onCreated={async (made) => {
            creating.value = false;
            created.value = made;
            await reload();
          }}
          onCancel={() => {
            creating.value = false;
          }}
        />
      )}
      {created.value && (
        <NewInvitesModal
          invites={created.value}
          onClose={() => {
            created.value = null;
          }}
        />
      )}
    </ListPage>
  );
}
