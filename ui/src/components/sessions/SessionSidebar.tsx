import { useRef } from "preact/hooks";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { startNewChat } from "../../state/chat/active-chat.ts";
import { searchQuery, searchState } from "../../state/history/history-search.ts";
import { workspaces } from "../../state/workspaces.ts";
import { PlusIcon } from "../common/icons.tsx";
import { HistoryGroup } from "./HistoryGroup.tsx";
import { SearchBox } from "./SearchBox.tsx";
import { SearchResults } from "./SearchResults.tsx";

interface SessionSidebarProps {
  workspace: Workspace;
  activeSessionId: string | null;
  open: boolean;
  onNavigate: () => void;
}

/**
 * Conversations from history: this workspace's first, then the other workspaces' (collapsed), each
 * newest first and loaded page by page as the list scrolls. A search box searches all of them.
 */
export function SessionSidebar({ workspace, activeSessionId, open, onNavigate }: SessionSidebarProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const searching = searchQuery.value.trim() !== "" || searchState.value.status !== "idle";
  const others = (workspaces.value ?? []).filter((w) => w.path !== workspace.path);
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
