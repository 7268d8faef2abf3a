import { MenuIcon } from "../common/icons.tsx";

/** Opens the session list where it is collapsed (narrow screens); CSS hides it elsewhere. */
export function SessionsToggle({ onClick }: { onClick: () => void }) {
  return (
    <button type="button" class="icon-button sessions-toggle" aria-label="Show sessions" onClick={onClick}>
      <MenuIcon />
    </button>
  );
}
