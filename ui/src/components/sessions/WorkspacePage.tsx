import { useEffect } from "preact/hooks";
import { activeChat, closeActiveChat, openChat, startNewChat } from "../../state/chat/active-chat.ts";
import { mux } from "../../state/connection.ts";
import { fileBrowserFor } from "../../state/files/file-browser.ts";
import { refreshLoadedHistories } from "../../state/history/session-history.ts";
import {
  closeSessionDrawer,
  openSessionDrawer,
  panelCoversChat,
  sessionDrawerOpen,
  sessionListIsDrawer,
} from "../../state/narrow-layout.ts";
import { linkHandler } from "../../state/router.ts";
import { hasStoredTerminals, terminalsFor } from "../../state/terminal/workspace-terminals.ts";
import { panelTab } from "../../state/workspace-panel.ts";
import { findWorkspace, loadWorkspaces, workspaces, workspacesError } from "../../state/workspaces.ts";
import { ChatView } from "../chat/ChatView.tsx";
import { FormError } from "../common/Field.tsx";
import { PlusIcon } from "../common/icons.tsx";
import { PanelToggles } from "../layout/PanelToggles.tsx";
import { WorkspacePanel } from "../layout/WorkspacePanel.tsx";
import { SessionSidebar } from "./SessionSidebar.tsx";
import { SessionsToggle } from "./SessionsToggle.tsx";

export function WorkspacePage({ name, sessionId }: { name: string; sessionId: string | null }) {
  useEffect(() => {
    if (workspaces.value === null) void loadWorkspaces();
    refreshLoadedHistories();
    // A reconnect may have missed sessions created, renamed or finished elsewhere.
    return mux.onReady(refreshLoadedHistories);
  }, [name]);

  const workspace = workspaces.value ? findWorkspace(name) : undefined;

  useEffect(() => {
    if (!workspace) return;
    if (sessionId) openChat(sessionId, workspace);
    else closeActiveChat();
  }, [workspace, sessionId]);

  useEffect(() => {
    if (!workspace) return;
    // Terminals of this tab from before a reload re-attach now: a detached shell lives only a minute.
    if (hasStoredTerminals(workspace)) terminalsFor(mux, workspace);
    return () => fileBrowserFor(mux, workspace).deactivate();
  }, [workspace]);

  useEffect(
    () => () => {
      closeActiveChat();
      sessionDrawerOpen.value = false;
    },
    [],
  );

  if (workspaces.value === null) {
    return (
      <main class="page">
        <FormError message={workspacesError.value} />
        {!workspacesError.value && <p class="muted">Loading…</p>}
      </main>
    );
  }
  if (!workspace) {
    return (
      <main class="page">
        <h1>Workspace not found</h1>
        <p class="muted">
          There is no workspace named “{name}”.{" "}
          <a href="/" onClick={linkHandler("/")}>
            Back to your workspaces
          </a>
        </p>
      </main>
    );
  }

  const chat = activeChat.value;
  const drawerOpen = sessionDrawerOpen.value && sessionListIsDrawer.value;
  const panelOpen = panelTab.value !== null;
  return (
    <div class="workspace-layout" data-panel={panelTab.value ?? "none"}>
      <SessionSidebar
        workspace={workspace}
        activeSessionId={sessionId}
        open={drawerOpen}
        onNavigate={closeSessionDrawer}
        onClose={closeSessionDrawer}
      />
      {drawerOpen && (
        // A tap beside the drawer closes it; keys have Escape, so the scrim is no tab stop.
        <button
          type="button"
          class="sidebar-scrim"
          aria-label="Close the session list"
          tabIndex={-1}
          onClick={closeSessionDrawer}
          data-testid="sidebar-scrim"
        />
      )}
      {/* What an overlay covers (the drawer, or the panel on a narrow screen) takes no focus or clicks. */}
      <main class="chat-area" inert={drawerOpen || (panelOpen && panelCoversChat.value)}>
        {chat && chat.id === sessionId ? (
          <ChatView key={chat.id} chat={chat} onShowSessions={openSessionDrawer} />
        ) : (
          <div class="empty-chat">
            <div class="empty-chat-bar">
              <SessionsToggle onClick={openSessionDrawer} />
              <PanelToggles />
            </div>
            <h1>{workspace.display_name ?? workspace.name}</h1>
            <p class="muted">Pick a session on the left, or start a new one.</p>
            <button type="button" class="button primary" onClick={() => startNewChat(workspace)}>
              <PlusIcon /> New session
            </button>
          </div>
        )}
      </main>
      <WorkspacePanel workspace={workspace} inert={drawerOpen} />
    </div>
  );
}
