import { sessionDrawerOpen } from "../../state/narrow-layout.ts";
import { MenuIcon } from "../common/icons.tsx";

/** Opens the session list where it is a drawer (narrow screens); CSS hides it elsewhere. */
export function SessionsToggle({ onClick }: { onClick: () => void }) {
  return (
    <button
      type="button"
      class="icon-button sessions-toggle"
      aria-label="Show sessions"
      aria-expanded={sessionDrawerOpen.value}
      aria-controls="session-list"
      onClick={onClick}
      data-testid="sessions-toggle"
    >
      <MenuIcon />
    </button>
  );
}
