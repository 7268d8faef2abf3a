import { currentUser, logout } from "../../state/auth.ts";
import { linkHandler, route, workspacePath } from "../../state/router.ts";
import { FolderIcon, SignOutIcon, UserIcon } from "../common/icons.tsx";
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
            <a
              class="header-link user-link"
              href="/account"
              onClick={linkHandler("/account")}
              aria-current={current.page === "account" ? "page" : undefined}
              aria-label={`${user.display_name ?? user.username}: account`}
              title={`Account of ${user.username}`}
              data-testid="account-link"
            >
              <UserIcon size={15} />
              <span class="user-name" data-testid="user-name">
                {user.display_name ?? user.username}
              </span>
            </a>
            <button
              type="button"
              class="button ghost small sign-out"
              onClick={() => void logout()}
              aria-label="Sign out"
              title="Sign out"
              data-testid="logout"
            >
              <SignOutIcon size={15} />
              <span class="sign-out-label">Sign out</span>
            </button>
          </div>
        )}
      </div>
    </header>
  );
}
