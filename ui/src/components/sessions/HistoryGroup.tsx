import { useSignal } from "@preact/signals";
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { historyFor } from "../../state/history/session-history.ts";
import { ChevronIcon, FolderIcon } from "../common/icons.tsx";
import { SessionRow } from "./SessionRow.tsx";

interface HistoryGroupProps {
  workspace: Workspace;
  /** The workspace on screen: always open, without a heading of its own. */
  current: boolean;
  activeSessionId: string | null;
  onNavigate: () => void;
  scrollRoot: RefObject<HTMLElement | null>;
}

/** The sessions of one workspace, newest first; the next page loads when the end scrolls into view. */
export function HistoryGroup({
  workspace,
  current,
  activeSessionId,
  onNavigate,
  scrollRoot,
}: HistoryGroupProps) {
  const history = historyFor(workspace);
  const expanded = useSignal(current);
  const open = current || expanded.value;

  useEffect(() => {
    if (open) history.ensureLoaded();
  }, [history, open]);

  const list = history.sessions.value;
  const listId = `history-${workspace.name}`;
  return (
    <section
      class="history-group"
      aria-label={current ? "Sessions of this workspace" : `Sessions of ${workspace.name}`}
      data-testid="history-group"
      data-workspace={workspace.name}
    >
      {!current && (
        <button
          type="button"
          class="history-group-head"
          aria-expanded={open}
          aria-controls={listId}
          onClick={() => {
            expanded.value = !expanded.value;
          }}
        >
          <span class="tool-chevron" data-open={open}>
            <ChevronIcon size={12} />
          </span>
          <FolderIcon size={14} />
          <span class="history-group-name">{workspace.display_name ?? workspace.name}</span>
        </button>
      )}
      {open && (
        <div id={listId}>
          {history.error.value && (
            <p class="sidebar-note error" role="alert">
              {history.error.value}{" "}
              <button type="button" class="link-button" onClick={() => void history.refresh()}>
                Try again
              </button>
            </p>
          )}
          {history.loaded.value && list.length === 0 && !history.error.value && (
            <p class="sidebar-note">No sessions yet.</p>
          )}
          <ul class="session-list">
            {list.map((session) => (
              <SessionRow
                key={session.session_id}
                session={session}
                workspace={workspace}
                active={session.session_id === activeSessionId}
                onNavigate={onNavigate}
              />
            ))}
          </ul>
          {history.hasMore.value && (
            <LoadMore count={list.length} root={scrollRoot} onVisible={() => void history.loadMore()} />
          )}
          {history.loading.value && <p class="sidebar-note">Loading…</p>}
        </div>
      )}
    </section>
  );
}

/**
 * The end of a list with more pages: loads the next one when it scrolls into view. The observer is
 * re-armed after each page (`count`), since it reports only changes and the end may still be visible.
 */
function LoadMore({
  count,
  root,
  onVisible,
}: {
  count: number;
  root: RefObject<HTMLElement | null>;
  onVisible: () => void;
}) {
  const marker = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = marker.current;
    if (!element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) onVisible();
      },
      { root: root.current, rootMargin: "240px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [count]);
  return (
    <div ref={marker} class="load-more">
      <button type="button" class="link-button" onClick={onVisible} data-testid="history-load-more">
        Load more
      </button>
    </div>
  );
}
