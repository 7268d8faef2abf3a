import {
  notificationsBlocked,
  notificationsEnabled,
  setNotificationsEnabled,
} from "../../state/desktop-notifications.ts";

/** Turns desktop notifications on or off for this browser (asking its permission when turned on). */
export function NotificationToggle() {
  const on = notificationsEnabled.value;
  const blocked = notificationsBlocked.value && !on;
  const title = on
    ? "Desktop notifications are on: one when the agent finishes or asks, while this tab is hidden"
    : blocked
      ? "The browser blocks notifications for this site; allow them in its site settings"
      : "Notify me on the desktop when the agent finishes or asks, while this tab is hidden";
  return (
    <button
      type="button"
      class="icon-button notification-toggle"
      aria-pressed={on}
      aria-label="Desktop notifications"
      title={title}
      onClick={() => void setNotificationsEnabled(!on)}
      data-testid="notification-toggle"
      data-blocked={blocked}
    >
      <BellIcon off={!on} />
    </button>
  );
}

function BellIcon({ off }: { off: boolean }) {
  return (
    <svg
      width="16"
      height="16"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.9 1.9 0 0 0 3.4 0" />
      {off && <path d="M3 3l18 18" />}
    </svg>
  );
}
