import { currentUser } from "../../state/auth.ts";
import { ApiKeysSection } from "./ApiKeysSection.tsx";
import { PasswordForm } from "./PasswordForm.tsx";
import { ProfileForm } from "./ProfileForm.tsx";
import { UsageSection } from "./UsageSection.tsx";

/** The signed-in user's own account: profile, password, LLM usage and limits, personal API keys. */
export function AccountPage() {
  const user = currentUser.value;
  if (!user) return null;
  return (
    <main class="page" aria-labelledby="account-title">
      <div class="page-head">
        <div>
          <h1 id="account-title">Account</h1>
          <p class="muted">
            Signed in as <strong>{user.username}</strong>
            {user.role === "admin" ? ", an administrator" : ""}.
          </p>
        </div>
      </div>
      <div class="account-grid">
        <ProfileForm key={user.id} user={user} />
        <PasswordForm username={user.username} />
      </div>
      <UsageSection />
      <ApiKeysSection />
    </main>
  );
}
