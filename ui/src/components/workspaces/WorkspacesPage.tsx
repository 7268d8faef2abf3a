import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { linkHandler, navigate, workspacePath } from "../../state/router.ts";
import { createWorkspace, loadWorkspaces, workspaces, workspacesError } from "../../state/workspaces.ts";
import { bindValue } from "../common/bind-value.ts";
import { FormError } from "../common/Field.tsx";
import { FolderIcon, PlusIcon, ShieldIcon } from "../common/icons.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

/** The directories under the user's workspace root; each is a project with its own sessions. */
export function WorkspacesPage() {
  useEffect(() => {
    void loadWorkspaces();
  }, []);

  return (
    <ListPage
      titleId="workspaces-title"
      title="Workspaces"
      intro="Each workspace is a directory with its own agent sessions, files and sandbox."
      actions={<CreateWorkspaceForm />}
      error={workspacesError.value}
      items={workspaces.value}
      loadingText="Loading workspaces…"
      empty={
        <>
          <FolderIcon size={28} />
          <p>No workspaces yet. Create one to start working with an agent.</p>
        </>
      }
      renderList={(list) => (
        <ul class="workspace-grid" aria-label="Workspaces">
          {list.map((workspace) => (
            <li key={workspace.path}>
              <a
                class="workspace-card"
                href={workspacePath(workspace.name)}
                onClick={linkHandler(workspacePath(workspace.name))}
                data-testid="workspace-item"
                data-workspace={workspace.name}
              >
                <span class="workspace-icon" aria-hidden="true">
                  <FolderIcon size={20} />
                </span>
                <span class="workspace-text">
                  <span class="workspace-name">{workspace.display_name ?? workspace.name}</span>
                  <span class="workspace-path">{workspace.path}</span>
                </span>
                <span
                  class="badge sandbox-profile"
                  data-invalid={workspace.sandbox_profile === "invalid"}
                  title={
                    workspace.sandbox_profile === "invalid"
                      ? "The workspace's sandbox file is broken: open the workspace to see why"
                      : "Sandbox profile"
                  }
                  data-testid="workspace-sandbox"
                >
                  <ShieldIcon size={12} />
                  <span class="visually-hidden">Sandbox profile: </span>
                  {workspace.sandbox_profile}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    />
  );
}

function CreateWorkspaceForm() {
  const name = useSignal("");
  const { error, busy, submit } = useFormSubmit(async () => {
    const created = await createWorkspace(name.value.trim());
    name.value = "";
    navigate(workspacePath(created.name));
  });

  // `required` stops an empty name; a name of only spaces is ignored the same way.
  const submitName = (event: SubmitEvent) => {
    if (name.value.trim()) void submit(event);
    else event.preventDefault();
  };

  return (
    <form class="inline-form" onSubmit={submitName} aria-label="New workspace">
      <div class="inline-form-row">
        <input
          aria-label="New workspace name"
          placeholder="new-workspace"
          required
          {...bindValue(name)}
          data-testid="workspace-name-input"
        />
        <button type="submit" class="button primary" disabled={busy.value} data-testid="workspace-create">
          <PlusIcon /> Create
        </button>
      </div>
      <FormError message={error.value} />
    </form>
  );
}
