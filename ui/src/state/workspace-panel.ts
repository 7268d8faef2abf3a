import { effect, signal } from "@preact/signals";
import type { Workspace } from "../../../src/protocol/index.ts";
import { mux } from "./connection.ts";
import { fileBrowserFor } from "./files/file-browser.ts";

/** The tool beside the chat: the workspace's files or its terminals. */
export type PanelTab = "files" | "terminal";

const STORAGE_KEY = "oqto.panel";

function storedTab(): PanelTab | null {
  const value = localStorage.getItem(STORAGE_KEY);
  return value === "files" || value === "terminal" ? value : null;
}

/** The open panel tab, or null when the chat has the whole width. Remembered across reloads. */
export const panelTab = signal<PanelTab | null>(storedTab());

export function installPanelMemory(): void {
  effect(() => {
    const tab = panelTab.value;
    if (tab) localStorage.setItem(STORAGE_KEY, tab);
    else localStorage.removeItem(STORAGE_KEY);
  });
}

/** The tab the user just opened from its toggle: the panel moves the focus into it once shown. */
export const panelFocusRequest = signal<PanelTab | null>(null);

export function togglePanel(tab: PanelTab): void {
  if (panelTab.value === tab) {
    panelTab.value = null;
    return;
  }
  panelTab.value = tab;
  panelFocusRequest.value = tab;
}

/** Closes the panel; the focus goes back to the toggle of the tab that was open (in the chat's header). */
export function closePanel(): void {
  const tab = panelTab.value;
  panelTab.value = null;
  if (tab) requestAnimationFrame(() => document.getElementById(`panel-toggle-${tab}`)?.focus());
}

/** Shows a workspace file in the file pane (a path the agent mentioned in the chat). */
export function openFileInPanel(workspace: Workspace, path: string): void {
  panelTab.value = "files";
  void fileBrowserFor(mux, workspace).openFile(path);
}
