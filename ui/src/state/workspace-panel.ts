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

export function togglePanel(tab: PanelTab): void {
  panelTab.value = panelTab.value === tab ? null : tab;
}

/** Shows a workspace file in the file pane (a path the agent mentioned in the chat). */
export function openFileInPanel(workspace: Workspace, path: string): void {
  panelTab.value = "files";
  void fileBrowserFor(mux, workspace).openFile(path);
}
