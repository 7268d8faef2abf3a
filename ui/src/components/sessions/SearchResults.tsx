import type { SearchHit, Workspace } from "../../../../src/protocol/index.ts";
import { queryTerms, splitByTerms } from "../../lib/search-terms.ts";
import { focusMessage } from "../../state/chat/message-focus.ts";
import { clock } from "../../state/clock.ts";
import { searchState } from "../../state/history/history-search.ts";
import { navigate, workspacePath } from "../../state/router.ts";
import { workspaces } from "../../state/workspaces.ts";
import { relativeTime } from "../common/format.ts";

/** Hits of the history search, each opening its session scrolled to the message. */
export function SearchResults({ current, onNavigate }: { current: Workspace; onNavigate: () => void }) {
  const state = searchState.value;
  if (state.status === "idle") return null;
  if (state.status === "searching") return <p class="sidebar-note">Searching…</p>;
  if (state.status === "failed") {
    return (
      <p class="sidebar-note error" role="alert">
        Search failed: {state.error}
      </p>
    );
  }
  if (state.hits.length === 0) {
    return (
      <p class="sidebar-note" data-testid="search-empty">
        No matches for “{state.query}”.
      </p>
    );
  }
  const terms = queryTerms(state.query);
  return (
    <ul class="search-results" aria-label={`Search results for ${state.query}`} data-testid="search-results">
      {state.hits.map((hit) => (
        <li key={hit.message_id}>
          <HitLink hit={hit} terms={terms} current={current} onNavigate={onNavigate} />
        </li>
      ))}
    </ul>
  );
}

function HitLink({
  hit,
  terms,
  current,
  onNavigate,
}: {
  hit: SearchHit;
  terms: readonly string[];
  current: Workspace;
  onNavigate: () => void;
}) {
  const workspace = (workspaces.value ?? []).find((w) => w.path === hit.workspace_path) ?? current;
  const href = workspacePath(workspace.name, hit.session_id);
  return (
    <a
      class="search-hit"
      href={href}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        focusMessage(hit.session_id, hit.message_id);
        navigate(href);
        onNavigate();
      }}
      data-testid="search-hit"
      data-session-id={hit.session_id}
      data-message-id={hit.message_id}
    >
      <span class="search-hit-title">{hit.title ?? "Untitled session"}</span>
      <span class="search-hit-meta">
        {workspace.name} · {hit.role === "user" ? "you" : hit.role} ·{" "}
        {relativeTime(hit.created_at, clock.value)}
      </span>
      <span class="search-hit-snippet">
        {splitByTerms(hit.snippet, terms).map((piece, index) =>
          piece.match ? <mark key={index}>{piece.text}</mark> : piece.text,
        )}
      </span>
    </a>
  );
}
