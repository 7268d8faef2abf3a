import { effect, type ReadonlySignal, signal } from "@preact/signals";

/**
 * The workspace page's narrow layouts, as styles.css draws them: up to 1100 px the files and
 * terminal panel covers the chat; up to 800 px it covers the whole screen and the session list is a
 * drawer. The page makes what lies under an overlay inert, so keys and screen readers stay in it.
 */
function mediaSignal(query: string): ReadonlySignal<boolean> {
  const list = matchMedia(query);
  const matches = signal(list.matches);
  list.addEventListener("change", (event) => {
    matches.value = event.matches;
  });
  return matches;
}

export const panelCoversChat = mediaSignal("(max-width: 1100px)");
export const sessionListIsDrawer = mediaSignal("(max-width: 800px)");

/** The session drawer is open (only where the list is a drawer). */
export const sessionDrawerOpen = signal(false);

/** What had the focus when the drawer opened: it gets it back when the drawer closes. */
let opener: HTMLElement | null = null;

export function openSessionDrawer(): void {
  opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  sessionDrawerOpen.value = true;
}

/**
 * Closes the drawer and gives the focus back to what opened it, or, when that is gone (choosing a
 * session replaces the chat it was in), to the menu button of the chat now on screen.
 */
export function closeSessionDrawer(): void {
  if (!sessionDrawerOpen.value) return;
  sessionDrawerOpen.value = false;
  const previous = opener;
  opener = null;
  requestAnimationFrame(() => {
    const target = previous?.isConnected ? previous : document.querySelector<HTMLElement>(".sessions-toggle");
    target?.focus();
  });
}

// Widened past the drawer's breakpoint, the list is a column again: nothing is left open or inert.
effect(() => {
  if (!sessionListIsDrawer.value) sessionDrawerOpen.value = false;
});
