import { LoginPage } from "./components/auth/LoginPage.tsx";
import { RegisterPage } from "./components/auth/RegisterPage.tsx";
import { SetupPage } from "./components/auth/SetupPage.tsx";
import { DialogHost } from "./components/common/DialogHost.tsx";
import { lazyComponent } from "./components/common/LazyComponent.tsx";
import { AppHeader } from "./components/layout/AppHeader.tsx";
import { WorkspacePage } from "./components/sessions/WorkspacePage.tsx";
import { WorkspacesPage } from "./components/workspaces/WorkspacesPage.tsx";
import { bootAuth, bootError, currentUser } from "./state/auth.ts";
import { linkHandler, route } from "./state/router.ts";

// Pages few visits open: their code (and the admin's usage chart) loads when first shown.
const AdminArea = lazyComponent("the administration pages", () =>
  import("./components/admin/AdminArea.tsx").then((m) => m.AdminArea),
);
const AccountPage = lazyComponent("the account page", () =>
  import("./components/account/AccountPage.tsx").then((m) => m.AccountPage),
);

export function App() {
  const user = currentUser.value;
  const current = route.value;
  if (bootError.value) return <BootFailure message={bootError.value} />;
  if (user === undefined) return <Splash />;
  if (user === null) {
    if (current.page === "setup") return <SetupPage />;
    if (current.page === "login") return <LoginPage />;
    if (current.page === "register") return <RegisterPage />;
    return <Splash />;
  }
  return (
    <div class="app">
      <AppHeader />
      <Page />
      <DialogHost />
    </div>
  );
}

function Page() {
  const current = route.value;
  switch (current.page) {
    case "workspace":
      return <WorkspacePage name={current.workspace} sessionId={current.sessionId} />;
    case "admin":
      return <AdminArea section={current.section} />;
    case "account":
      return <AccountPage />;
    case "workspaces":
    case "login":
    case "setup":
    case "register":
      return <WorkspacesPage />;
    case "not-found":
      return (
        <main class="page">
          <h1>Page not found</h1>
          <p class="muted">
            Nothing lives at {current.path}.{" "}
            <a href="/" onClick={linkHandler("/")}>
              Go to your workspaces
            </a>
          </p>
        </main>
      );
  }
}

function Splash() {
  return (
    <div class="splash" aria-busy="true">
      <span class="brand-mark" aria-hidden="true">
        ◆
      </span>
      <span class="muted">Loading Oqto…</span>
    </div>
  );
}

function BootFailure({ message }: { message: string }) {
  return (
    <div class="splash" role="alert">
      <p>Oqto could not start: {message}</p>
      <button type="button" class="button" onClick={() => void bootAuth()}>
        Try again
      </button>
    </div>
  );
}
