import type { Workspace } from "../../../../src/protocol/index.ts";
import { type PanelTab, panelTab } from "../../state/workspace-panel.ts";
import { CloseIcon, FolderIcon, TerminalIcon } from "../common/icons.tsx";
import { FilesPanel } from "../files/FilesPanel.tsx";
import { TerminalPanel } from "../terminal/TerminalPanel.tsx";

const TABS: { tab: PanelTab; label: string; Icon: typeof FolderIcon }[] = [
  { tab: "files", label: "Files", Icon: FolderIcon },
  { tab: "terminal", label: "Terminal", Icon: TerminalIcon },
];

/** The panel beside the chat (over it on narrow screens): the workspace's files or its terminals. */
export function WorkspacePanel({ workspace }: { workspace: Workspace }) {
  const tab = panelTab.value;
  if (!tab) return null;
  return (
    <section
      class="workspace-panel"
      aria-label="Workspace tools"
      data-testid="workspace-panel"
      data-tab={tab}
    >
      <div class="panel-tabs" role="tablist" aria-label="Workspace tools">
        {TABS.map(({ tab: id, label, Icon }) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`panel-tab-${id}`}
            aria-selected={tab === id}
            aria-controls="workspace-panel-body"
            class="panel-tab"
            onClick={() => {
              panelTab.value = id;
            }}
            data-testid={`panel-tab-${id}`}
          >
            <Icon size={14} /> {label}
          </button>
        ))}
        <button
          type="button"
          class="icon-button panel-close"
          aria-label="Close the panel"
          onClick={() => {
            panelTab.value = null;
          }}
          data-testid="panel-close"
        >
          <CloseIcon size={16} />
        </button>
      </div>
      <div class="panel-body" id="workspace-panel-body" role="tabpanel" aria-labelledby={`panel-tab-${tab}`}>
        {tab === "files" ? (
          <FilesPanel key={workspace.path} workspace={workspace} />
        ) : (
          <TerminalPanel key={workspace.path} workspace={workspace} />
        )}
      </div>
    </section>
  );
}
