import type { Workspace } from "../../../../src/protocol/index.ts";
import { startNewChat } from "../../state/chat/active-chat.ts";
import { linkHandler, workspacePath } from "../../state/router.ts";
import { sessionsError, sessionsLoaded, sessionsOfWorkspace } from "../../state/session-list.ts";
import { relativeTime } from "../common/format.ts";
import { PlusIcon } from "../common/icons.tsx";

interface SessionSidebarProps {
  workspace: Workspace;
  activeSessionId: string | null;
  open: boolean;
  onNavigate: () => void;
}

/** The workspace's sessions, newest first, and the button that starts a new one. */
export function SessionSidebar({ workspace, activeSessionId, open, onNavigate }: SessionSidebarProps) {
  const list = sessionsOfWorkspace(workspace.path);
  return (
    <aside class="sidebar" data-open={open} aria-label="Sessions">
      <div class="sidebar-head">
        <h2 class="sidebar-title" title={workspace.path}>
          {workspace.display_name ?? workspace.name}
        </h2>
        <button
          type="button"
          class="button primary wide"
          onClick={() => {
            startNewChat(workspace);
            onNavigate();
          }}
          data-testid="new-session"
        >
          <PlusIcon /> New session
        </button>
      </div>
      {sessionsError.value && (
        <p class="sidebar-note error" role="alert">
          {sessionsError.value}
        </p>
      )}
      {sessionsLoaded.value && list.length === 0 && !sessionsError.value && (
        <p class="sidebar-note">No sessions yet.</p>
      )}
      <ul class="session-list">
        {list.map((session) => {
          const href = workspacePath(workspace.name, session.session_id);
          const active = session.session_id === activeSessionId;
          return (
            <li key={session.session_id}>
              <a
                class="session-item"
                href={href}
                onClick={(event) => {
                  linkHandler(href)(event);
                  onNavigate();
                }}
                aria-current={active ? "page" : undefined}
                data-testid="session-item"
                data-session-id={session.session_id}
              >
                <span class="state-dot" data-state={session.state} title={session.state} aria-hidden="true" />
                <span class="session-title">{session.title ?? "New session"}</span>
                <time class="session-time" dateTime={new Date(session.last_activity).toISOString()}>
                  {relativeTime(session.last_activity)}
                </time>
              </a>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
