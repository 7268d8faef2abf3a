import { currentUser, logout } from "../../state/auth.ts";
import { linkHandler, route, workspacePath } from "../../state/router.ts";
import { FolderIcon } from "../common/icons.tsx";
import { SandboxBadge } from "../sandbox/SandboxBadge.tsx";
import { ConnectionIndicator } from "./ConnectionIndicator.tsx";
import { ThemeToggle } from "./ThemeToggle.tsx";

export function AppHeader() {
  const user = currentUser.value;
  const current = route.value;
  return (
    <header class="app-header">
      <nav class="app-nav" aria-label="Main">
        <a class="brand" href="/" onClick={linkHandler("/")}>
          <span class="brand-mark" aria-hidden="true">
            ◆
          </span>
          Oqto
        </a>
        {current.page === "workspace" && (
          <a
            class="crumb"
            href={workspacePath(current.workspace)}
            onClick={linkHandler(workspacePath(current.workspace))}
          >
            <FolderIcon size={14} />
            {current.workspace}
          </a>
        )}
        {current.page === "workspace" && <SandboxBadge workspace={current.workspace} />}
      </nav>
      <div class="app-header-tools">
        <ConnectionIndicator />
        {user?.role === "admin" && (
          <a
            class="header-link"
            href="/admin"
            onClick={linkHandler("/admin")}
            aria-current={current.page === "admin" ? "page" : undefined}
            data-testid="admin-link"
          >
            Admin
          </a>
        )}
        <ThemeToggle />
        {user && (
          <div class="user-menu">
            <span class="user-name" title={user.username}>
              {user.display_name ?? user.username}
            </span>
            <button
              type="button"
              class="button ghost small"
              onClick={() => void logout()}
              data-testid="logout"
            >
              Sign out
            </button>
          </div>
        )}
      </div>
    </header>
  );
}
