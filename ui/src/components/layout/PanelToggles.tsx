import { type PanelTab, panelTab, togglePanel } from "../../state/workspace-panel.ts";
import { FolderIcon, TerminalIcon } from "../common/icons.tsx";

const TOGGLES: { tab: PanelTab; label: string; Icon: typeof FolderIcon }[] = [
  { tab: "files", label: "Files", Icon: FolderIcon },
  { tab: "terminal", label: "Terminal", Icon: TerminalIcon },
];

/** Buttons that show or hide the files and terminal panel beside the chat. */
export function PanelToggles() {
  const open = panelTab.value;
  return (
    <div class="panel-toggles">
      {TOGGLES.map(({ tab, label, Icon }) => (
        <button
          key={tab}
          type="button"
          id={`panel-toggle-${tab}`}
          class="icon-button"
          aria-pressed={open === tab}
          aria-label={open === tab ? `Hide ${label.toLowerCase()}` : `Show ${label.toLowerCase()}`}
          title={label}
          onClick={() => togglePanel(tab)}
          data-testid={`toggle-${tab}`}
        >
          <Icon />
        </button>
      ))}
    </div>
  );
}
