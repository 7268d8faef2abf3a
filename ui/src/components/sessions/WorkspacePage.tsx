import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { activeChat, closeActiveChat, openChat, startNewChat } from "../../state/chat/active-chat.ts";
import { mux } from "../../state/connection.ts";
import { linkHandler } from "../../state/router.ts";
import { refreshSessions } from "../../state/session-list.ts";
import { findWorkspace, loadWorkspaces, workspaces, workspacesError } from "../../state/workspaces.ts";
import { ChatView } from "../chat/ChatView.tsx";
import { FormError } from "../common/Field.tsx";
import { PlusIcon } from "../common/icons.tsx";
import { SessionSidebar } from "./SessionSidebar.tsx";
import { SessionsToggle } from "./SessionsToggle.tsx";

export function WorkspacePage({ name, sessionId }: { name: string; sessionId: string | null }) {
  const sidebarOpen = useSignal(false);

  useEffect(() => {
    if (workspaces.value === null) void loadWorkspaces();
    void refreshSessions();
    // A reconnect may have missed sessions created or renamed elsewhere.
    return mux.onReady(() => void refreshSessions());
  }, [name]);

  const workspace = workspaces.value ? findWorkspace(name) : undefined;

  useEffect(() => {
    if (!workspace) return;
    if (sessionId) openChat(sessionId, workspace);
    else closeActiveChat();
  }, [workspace, sessionId]);

  useEffect(() => () => closeActiveChat(), []);

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
  const openSidebar = () => {
    sidebarOpen.value = true;
  };
  const closeSidebar = () => {
    sidebarOpen.value = false;
  };
  return (
    <div class="workspace-layout">
      <SessionSidebar
        workspace={workspace}
        activeSessionId={sessionId}
        open={sidebarOpen.value}
        onNavigate={closeSidebar}
      />
      {sidebarOpen.value && (
        <button
          type="button"
          class="sidebar-scrim"
          aria-label="Close the session list"
          onClick={closeSidebar}
        />
      )}
      <main class="chat-area">
        {chat && chat.id === sessionId ? (
          <ChatView key={chat.id} chat={chat} onShowSessions={openSidebar} />
        ) : (
          <div class="empty-chat">
            <SessionsToggle onClick={openSidebar} />
            <h1>{workspace.display_name ?? workspace.name}</h1>
            <p class="muted">Pick a session on the left, or start a new one.</p>
            <button type="button" class="button primary" onClick={() => startNewChat(workspace)}>
              <PlusIcon /> New session
            </button>
          </div>
        )}
      </main>
    </div>
  );
}
