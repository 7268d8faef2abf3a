import { clearSearch, searchQuery, setSearchQuery } from "../../state/history/history-search.ts";
import { CloseIcon, SearchIcon } from "../common/icons.tsx";

/** Full-text search over every conversation of the user. */
export function SearchBox() {
  const query = searchQuery.value;
  return (
    <search class="search-box">
      <SearchIcon size={15} />
      <input
        type="search"
        aria-label="Search conversations"
        placeholder="Search conversations"
        value={query}
        onInput={(event) => setSearchQuery(event.currentTarget.value)}
        onKeyDown={(event) => {
          // Escape clears a search first; on an empty box it goes on to close the session drawer.
          if (event.key !== "Escape") return;
          if (event.currentTarget.value !== "") event.stopPropagation();
          clearSearch();
        }}
        data-testid="history-search"
      />
      {query && (
        <button type="button" class="icon-button small" aria-label="Clear the search" onClick={clearSearch}>
          <CloseIcon size={14} />
        </button>
      )}
    </search>
  );
}
