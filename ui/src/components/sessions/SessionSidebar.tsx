import { useLayoutEffect, useRef } from "preact/hooks";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { startNewChat } from "../../state/chat/active-chat.ts";
import { searchQuery, searchState } from "../../state/history/history-search.ts";
import { sessionListIsDrawer } from "../../state/narrow-layout.ts";
import { workspaces } from "../../state/workspaces.ts";
import { PlusIcon } from "../common/icons.tsx";
import { HistoryGroup } from "./HistoryGroup.tsx";
import { SearchBox } from "./SearchBox.tsx";
import { SearchResults } from "./SearchResults.tsx";

interface SessionSidebarProps {
  workspace: Workspace;
  activeSessionId: string | null;
  /** Open as a drawer (narrow screens). */
  open: boolean;
  /** A session or "New session" was chosen: the drawer closes. */
  onNavigate: () => void;
  /** Escape in the open drawer. */
  onClose: () => void;
}

/**
 * Conversations from history: this workspace's first, then the other workspaces' (collapsed), each
 * newest first and loaded page by page as the list scrolls. A search box searches all of them.
 * On a narrow screen it is a drawer: opening moves the focus into it, Escape closes it, and the page
 * makes what it covers inert (so it is modal without being a dialog: it stays the Sessions landmark).
 */
export function SessionSidebar({
  workspace,
  activeSessionId,
  open,
  onNavigate,
  onClose,
}: SessionSidebarProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const newSession = useRef<HTMLButtonElement>(null);
  const drawer = sessionListIsDrawer.value;
  const modal = drawer && open;

  useLayoutEffect(() => {
    if (!modal) return;
    newSession.current?.focus();
    // Escape is heard on the document, from the first frame: the focus was on the chat, inert now.
    // Controls in the drawer with an Escape of their own (search, rename) stop it before it gets here.
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      event.preventDefault();
      onClose();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [modal, onClose]);

  const searching = searchQuery.value.trim() !== "" || searchState.value.status !== "idle";
  const others = (workspaces.value ?? []).filter((w) => w.path !== workspace.path);
  return (
    <aside
      class="sidebar"
      id="session-list"
      data-open={open}
      aria-label="Sessions"
      data-testid="session-sidebar"
    >
      <div class="sidebar-head">
        <h2 class="sidebar-title" title={workspace.path}>
          {workspace.display_name ?? workspace.name}
        </h2>
        <button
          ref={newSession}
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
        <SearchBox />
      </div>
      <div class="sidebar-scroll" ref={scrollRef}>
        {searching ? (
          <SearchResults current={workspace} onNavigate={onNavigate} />
        ) : (
          <>
            <HistoryGroup
              workspace={workspace}
              current
              activeSessionId={activeSessionId}
              onNavigate={onNavigate}
              scrollRoot={scrollRef}
            />
            {others.length > 0 && <h3 class="sidebar-section">Other workspaces</h3>}
            {others.map((other) => (
              <HistoryGroup
                key={other.path}
                workspace={other}
                current={false}
                activeSessionId={activeSessionId}
                onNavigate={onNavigate}
                scrollRoot={scrollRef}
              />
            ))}
          </>
        )}
      </div>
    </aside>
  );
}
