import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { errorText } from "../../lib/errors.ts";
import { linkHandler, navigate, workspacePath } from "../../state/router.ts";
import { createWorkspace, loadWorkspaces, workspaces, workspacesError } from "../../state/workspaces.ts";
import { FormError } from "../common/Field.tsx";
import { FolderIcon, PlusIcon } from "../common/icons.tsx";

/** The directories under the user's workspace root; each is a project with its own sessions. */
export function WorkspacesPage() {
  useEffect(() => {
    void loadWorkspaces();
  }, []);
  const list = workspaces.value;

  return (
    <main class="page" aria-labelledby="workspaces-title">
      <div class="page-head">
        <div>
          <h1 id="workspaces-title">Workspaces</h1>
          <p class="muted">Each workspace is a directory with its own agent sessions, files and sandbox.</p>
        </div>
        <CreateWorkspaceForm />
      </div>
      <FormError message={workspacesError.value} />
      {list === null && !workspacesError.value && <p class="muted">Loading workspaces…</p>}
      {list?.length === 0 && (
        <div class="empty-state">
          <FolderIcon size={28} />
          <p>No workspaces yet. Create one to start working with an agent.</p>
        </div>
      )}
      {list && list.length > 0 && (
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
                <span class="badge" title="Sandbox profile">
                  {workspace.sandbox_profile}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

function CreateWorkspaceForm() {
  const name = useSignal("");
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const trimmed = name.value.trim();
    if (!trimmed) return;
    busy.value = true;
    error.value = null;
    try {
      const created = await createWorkspace(trimmed);
      name.value = "";
      navigate(workspacePath(created.name));
    } catch (caught) {
      error.value = errorText(caught);
    } finally {
      busy.value = false;
    }
  };

  return (
    <form class="inline-form" onSubmit={submit} aria-label="New workspace">
      <div class="inline-form-row">
        <input
          aria-label="New workspace name"
          placeholder="new-workspace"
          required
          value={name}
          onInput={(e) => {
            name.value = e.currentTarget.value;
          }}
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
