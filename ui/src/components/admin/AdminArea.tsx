import { currentUser } from "../../state/auth.ts";
import { ADMIN_SECTIONS, type AdminSection, adminPath, linkHandler } from "../../state/router.ts";
import { AuditPage } from "./AuditPage.tsx";
import { InvitesPage } from "./InvitesPage.tsx";
import { LimitsPage } from "./LimitsPage.tsx";
import { ProvidersPage } from "./ProvidersPage.tsx";
import { SessionsPage } from "./SessionsPage.tsx";
import { UsagePage } from "./UsagePage.tsx";
import { UsersPage } from "./UsersPage.tsx";

const LABELS: Record<AdminSection, string> = {
  providers: "Providers",
  usage: "Usage",
  limits: "Limits",
  users: "Users",
  invites: "Invites",
  sessions: "Sessions",
  audit: "Audit log",
};

/** The admin pages behind one role check, with tabs between them. */
export function AdminArea({ section }: { section: AdminSection }) {
  if (currentUser.value?.role !== "admin") {
    return (
      <main class="page">
        <h1>Administration</h1>
        <p class="muted">Only administrators can open this page.</p>
      </main>
    );
  }
  return (
    <div class="admin-area">
      <nav class="admin-nav" aria-label="Administration">
        {ADMIN_SECTIONS.map((each) => (
          <a
            key={each}
            class="admin-nav-link"
            href={adminPath(each)}
            onClick={linkHandler(adminPath(each))}
            aria-current={each === section ? "page" : undefined}
            data-testid={`admin-nav-${each}`}
          >
            {LABELS[each]}
          </a>
        ))}
      </nav>
      {section === "providers" && <ProvidersPage />}
      {section === "usage" && <UsagePage />}
      {section === "limits" && <LimitsPage />}
      {section === "users" && <UsersPage />}
      {section === "invites" && <InvitesPage />}
      {section === "sessions" && <SessionsPage />}
      {section === "audit" && <AuditPage />}
    </div>
  );
}
