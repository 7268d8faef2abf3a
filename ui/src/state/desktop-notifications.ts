import { signal } from "@preact/signals";

/**
 * Opt-in desktop notifications: a toggle kept in this browser, asking the browser's permission
 * when it is turned on. What they say comes from the agent (untrusted): plain text, truncated.
 */

const STORAGE_KEY = "oqto.notifications";
const TITLE_CHARS = 80;
const BODY_CHARS = 160;

function supported(): boolean {
  return typeof Notification !== "undefined";
}

function granted(): boolean {
  return supported() && Notification.permission === "granted";
}

/** On when the user turned it on here and the browser still allows it. */
export const notificationsEnabled = signal(localStorage.getItem(STORAGE_KEY) === "on" && granted());
/** The browser refused (or has no notifications): the toggle says why it stays off. */
export const notificationsBlocked = signal(!supported() || Notification.permission === "denied");

export async function setNotificationsEnabled(on: boolean): Promise<void> {
  if (!on) {
    localStorage.removeItem(STORAGE_KEY);
    notificationsEnabled.value = false;
    return;
  }
  if (!supported()) return;
  const permission = granted() ? "granted" : await Notification.requestPermission();
  notificationsBlocked.value = permission === "denied";
  if (permission !== "granted") return;
  localStorage.setItem(STORAGE_KEY, "on");
  notificationsEnabled.value = true;
}

/** One line of at most `max` characters: markdown's fences, headings, quotes and emphasis dropped. */
export function plainSnippet(text: string, max: number): string {
  const plain = text
    .replace(/```[^\n]*/g, " ")
    .replace(/^\s*(?:#+|>+)\s*/gm, "")
    .replace(/[*`]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
}

/** Shows a notification if they are on; clicking it brings this tab forward and runs `onClick`. */
export function notify(title: string, body: string, tag: string, onClick: () => void): void {
  if (!notificationsEnabled.value || !granted()) return;
  const notification = new Notification(plainSnippet(title, TITLE_CHARS), {
    body: plainSnippet(body, BODY_CHARS),
    tag,
  });
  notification.onclick = () => {
    window.focus();
    onClick();
    notification.close();
  };
}
