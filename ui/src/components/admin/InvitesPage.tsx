import { useSignal } from "@preact/signals";
import type { CreatedInvites, InviteCode } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { useMultiUser } from "../../state/server-mode.ts";
import { AddButton } from "../common/AddButton.tsx";
import { confirmThenRun } from "../common/confirm-then-run.ts";
import { DataTable } from "../common/DataTable.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { RelativeTime } from "../common/RelativeTime.tsx";
import { RowActionButton } from "../common/RowActionButton.tsx";
import { useLoadedList } from "../common/useLoadedList.ts";
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
  const { items: invites, error, reload } = useLoadedList(api.listInvites);
  const creating = useSignal(false);
  const created = useSignal<CreatedInvites["invites"] | null>(null);
  const multiUser = useMultiUser();

  const revoke = async (invite: InviteCode) => {
    const outcome = await confirmThenRun(
      {
        title: `Revoke the invite ${invite.prefix}…?`,
        message: `Nobody can register with it from now on (${invite.remaining} of ${invite.max_uses} uses left). Accounts already made with it stay.`,
        confirmLabel: "Revoke invite",
        danger: true,
      },
      () => api.revokeInvite(invite.id),
      error,
    );
    // After a failure too, so that the list shows each invite as it now stands.
    if (outcome !== "cancelled") await reload();
  };

  return (
    <ListPage
      titleId="invites-title"
      title="Invites"
      intro="People create their own account with an invite code. A code is shown only once, when it is made."
      actions={
        !creating.value && (
          <AddButton
            label="New invite"
            onClick={() => {
              creating.value = true;
            }}
            testId="invite-add"
          />
        )
      }
      error={error.value}
      items={invites.value}
      loadingText="Loading invite codes…"
      empty={<p>No invite codes yet.</p>}
      renderList={(list) => (
        <DataTable
          label="Invite codes"
          columns={["Code", "State", "Uses", "Expires", "Note", "Created"]}
          withActions
        >
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
                  <RowActionButton
                    label={`Revoke the invite ${invite.prefix}`}
                    onClick={() => void revoke(invite)}
                    testId="invite-revoke"
                  >
                    Revoke
                  </RowActionButton>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
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
