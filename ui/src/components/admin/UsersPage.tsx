import { useSignal } from "@preact/signals";
import type { User } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { currentUser, signedOut } from "../../state/auth.ts";
import { useMultiUser } from "../../state/server-mode.ts";
import { AddButton } from "../common/AddButton.tsx";
import { ContextMenu, type MenuItem } from "../common/ContextMenu.tsx";
import { type ConfirmQuestion, confirmThenRun } from "../common/confirm-then-run.ts";
import { DataTable } from "../common/DataTable.tsx";
import { MoreIcon } from "../common/icons.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { RelativeTime } from "../common/RelativeTime.tsx";
import { useLoadedList } from "../common/useLoadedList.ts";
import { CreateUserForm } from "./CreateUserForm.tsx";
import { ResetPasswordModal } from "./ResetPasswordModal.tsx";

interface RowMenu {
  user: User;
  x: number;
  y: number;
}

/** Admin: every account, with creation, (de)activation, role, password reset and deletion. */
export function UsersPage() {
  const { items: users, error, reload } = useLoadedList(api.listUsers);
  const creating = useSignal(false);
  const menu = useSignal<RowMenu | null>(null);
  const resetting = useSignal<User | null>(null);
  const me = currentUser.value;
  const multiUser = useMultiUser();

  /** Asks, then makes the change; a refusal of the server (such as the last admin's 409) shows on the page. */
  const change = async (user: User, question: ConfirmQuestion | null, work: () => Promise<unknown>) => {
    const self = user.id === me?.id;
    const asked = question && {
      ...question,
      message: self
        ? `${question.message}\n\nThis is your own account: you will be signed out.`
        : question.message,
    };
    if ((await confirmThenRun(asked, work, error)) !== "done") return;
    // Any change to one's own account revokes one's own session.
    if (self) await signedOut();
    else await reload();
  };

  const menuItems = (user: User): MenuItem[] => [
    user.is_active
      ? {
          label: "Deactivate…",
          testId: "user-action-deactivate",
          onSelect: () =>
            void change(
              user,
              {
                title: `Deactivate ${user.username}?`,
                message: `${user.username} is signed out everywhere at once and can neither sign in nor use an API key until activated again.`,
                confirmLabel: "Deactivate",
                danger: true,
              },
              () => api.updateUser(user.id, { is_active: false }),
            ),
        }
      : {
          label: "Activate",
          testId: "user-action-activate",
          onSelect: () => void change(user, null, () => api.updateUser(user.id, { is_active: true })),
        },
    user.role === "admin"
      ? {
          label: "Make user…",
          testId: "user-action-role",
          onSelect: () =>
            void change(
              user,
              {
                title: `Make ${user.username} a user?`,
                message: `${user.username} loses the admin pages and is signed out everywhere.`,
                confirmLabel: "Make user",
              },
              () => api.updateUser(user.id, { role: "user" }),
            ),
        }
      : {
          label: "Make admin…",
          testId: "user-action-role",
          onSelect: () =>
            void change(
              user,
              {
                title: `Make ${user.username} an admin?`,
                message: `Admins manage users, invites, providers, running sessions and the audit log. ${user.username} is signed out everywhere and signs in again as an admin.`,
                confirmLabel: "Make admin",
              },
              () => api.updateUser(user.id, { role: "admin" }),
            ),
        },
    {
      label: "Reset password…",
      testId: "user-action-reset-password",
      onSelect: () => {
        resetting.value = user;
      },
    },
    {
      label: multiUser ? "Delete, keep files…" : "Delete…",
      danger: true,
      testId: "user-action-delete",
      onSelect: () =>
        void change(
          user,
          {
            title: `Delete ${user.username}?`,
            message: multiUser
              ? `The account, its API keys and its list of chat sessions are removed for good, and so is the Linux user oqto_${user.username}. Its home (workspaces, history) stays on the server.`
              : `The account, its API keys and its list of chat sessions are removed for good. Files in workspaces stay.`,
            confirmLabel: "Delete user",
            danger: true,
          },
          () => api.deleteUser(user.id),
        ),
    },
    ...(multiUser
      ? [
          {
            label: "Delete with files…",
            danger: true,
            testId: "user-action-delete-data",
            onSelect: () =>
              void change(
                user,
                {
                  title: `Delete ${user.username} and all their files?`,
                  message: `The account and the Linux user oqto_${user.username} are removed, with its home: every workspace, file and chat history of ${user.username}. This cannot be undone.`,
                  confirmLabel: "Delete user and files",
                  danger: true,
                },
                () => api.deleteUser(user.id, true),
              ),
          },
        ]
      : []),
  ];

  return (
    <ListPage
      titleId="users-title"
      title="Users"
      intro="Everyone who can sign in. Deactivating, deleting, a new role or a new password signs the user out at once."
      actions={
        !creating.value && (
          <AddButton
            label="Add user"
            onClick={() => {
              creating.value = true;
            }}
            testId="user-add"
          />
        )
      }
      error={error.value}
      items={users.value}
      loadingText="Loading users…"
      empty={<p>No users.</p>}
      renderList={(list) => (
        <DataTable
          label="Users"
          columns={["Username", "Display name", "Role", "Status", "Created", "Last login"]}
          withActions
        >
          {list.map((user) => (
            <tr
              key={user.id}
              data-testid="user-row"
              data-username={user.username}
              data-active={String(user.is_active)}
              data-role={user.role}
            >
              <th scope="row" data-label="Username">
                <span class="cell-title">
                  {user.username}
                  {user.id === me?.id && <span class="badge accent">you</span>}
                </span>
              </th>
              <td data-label="Display name">{user.display_name ?? <span class="muted">—</span>}</td>
              <td data-label="Role">
                <span class="badge" data-admin={user.role === "admin"} data-testid="user-role">
                  {user.role}
                </span>
              </td>
              <td data-label="Status">
                <span class="badge" data-ok={user.is_active} data-testid="user-status">
                  {user.is_active ? "active" : "deactivated"}
                </span>
              </td>
              <td data-label="Created">
                <RelativeTime ms={user.created_at} />
              </td>
              <td data-label="Last login">
                {user.last_login_at ? (
                  <RelativeTime ms={user.last_login_at} />
                ) : (
                  <span class="muted">never</span>
                )}
              </td>
              <td class="row-actions">
                <button
                  type="button"
                  class="icon-button"
                  aria-label={`Actions for ${user.username}`}
                  aria-haspopup="menu"
                  aria-expanded={menu.value?.user.id === user.id}
                  title="Actions"
                  onClick={(event) => {
                    const box = event.currentTarget.getBoundingClientRect();
                    menu.value = { user, x: box.right - 190, y: box.bottom };
                  }}
                  data-testid="user-menu"
                >
                  <MoreIcon />
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    >
      {multiUser === false && (
        <p class="notice" data-testid="single-user-note">
          <strong>Single-user mode.</strong> The agents, terminals and file operations of every account run as
          the same Linux user, so each user can read and change every workspace. Give accounts only to people
          you trust with all of them, or run <code>oqto serve --multi-user</code>.
        </p>
      )}
      {multiUser === true && (
        <p class="notice" data-testid="multi-user-note">
          <strong>Multi-user mode.</strong> Each user has their own Linux user <code>oqto_&lt;name&gt;</code>:
          their agents, terminals and files run as it, and no user can reach another's workspaces. People can
          also join with an invite code (Invites).
        </p>
      )}
      {creating.value && (
        <CreateUserForm
          onCreated={async () => {
            creating.value = false;
            await reload();
          }}
          onCancel={() => {
            creating.value = false;
          }}
        />
      )}
      {menu.value && (
        <ContextMenu
          x={menu.value.x}
          y={menu.value.y}
          label={`Actions for ${menu.value.user.username}`}
          items={menuItems(menu.value.user)}
          onClose={() => {
            menu.value = null;
          }}
        />
      )}
      {resetting.value && (
        <ResetPasswordModal
          user={resetting.value}
          onDone={() => {
            // The user's own reset signs them out; another's leaves the list as it was.
            if (resetting.value?.id === me?.id) void signedOut();
            resetting.value = null;
          }}
          onCancel={() => {
            resetting.value = null;
          }}
        />
      )}
    </ListPage>
  );
}
