import { useEffect, useRef } from "preact/hooks";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { closePanel, type PanelTab, panelFocusRequest, panelTab } from "../../state/workspace-panel.ts";
import { ArrowLeftIcon, CloseIcon, FolderIcon, TerminalIcon } from "../common/icons.tsx";
import { FilesPanel } from "../files/FilesPanel.tsx";
import { TerminalPanel } from "../terminal/TerminalPanel.tsx";

const TABS: { tab: PanelTab; label: string; Icon: typeof FolderIcon }[] = [
  { tab: "files", label: "Files", Icon: FolderIcon },
  { tab: "terminal", label: "Terminal", Icon: TerminalIcon },
];

/**
 * The panel beside the chat (over it on narrow screens, the whole screen on a phone): the
 * workspace's files or its terminals. The tabs follow the ARIA tabs pattern (arrow keys move
 * between them); opening the panel from its toggle puts the focus in it, closing gives it back.
 */
export function WorkspacePanel({ workspace, inert }: { workspace: Workspace; inert: boolean }) {
  const tab = panelTab.value;
  const tabs = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!tab || panelFocusRequest.value !== tab) return;
    panelFocusRequest.value = null;
    // The terminal takes the focus itself once its screen is up.
    if (tab === "files") tabs.current?.querySelector<HTMLElement>('[aria-selected="true"]')?.focus();
  }, [tab, panelFocusRequest.value]);

  if (!tab) return null;
  const select = (id: PanelTab) => {
    panelTab.value = id;
    tabs.current?.querySelector<HTMLElement>(`#panel-tab-${id}`)?.focus();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const index = TABS.findIndex((t) => t.tab === tab);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length];
    if (next) select(next.tab);
  };
  return (
    <section
      class="workspace-panel"
      aria-label="Workspace tools"
      data-testid="workspace-panel"
      data-tab={tab}
      inert={inert}
    >
      <div class="panel-tabs">
        <button type="button" class="panel-back" onClick={closePanel} data-testid="panel-back">
          <ArrowLeftIcon size={16} /> Back to chat
        </button>
        <div
          class="panel-tablist"
          role="tablist"
          aria-label="Workspace tools"
          ref={tabs}
          onKeyDown={onKeyDown}
        >
          {TABS.map(({ tab: id, label, Icon }) => (
            <button
              key={id}
              type="button"
              role="tab"
              id={`panel-tab-${id}`}
              aria-selected={tab === id}
              aria-controls="workspace-panel-body"
              tabIndex={tab === id ? 0 : -1}
              class="panel-tab"
              onClick={() => {
                panelTab.value = id;
              }}
              data-testid={`panel-tab-${id}`}
            >
              <Icon size={14} /> {label}
            </button>
          ))}
        </div>
        <button
          type="button"
          class="icon-button panel-close"
          aria-label="Close the panel"
          title="Close the panel"
          onClick={closePanel}
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
