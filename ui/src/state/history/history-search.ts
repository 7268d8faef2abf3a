import { signal } from "@preact/signals";
import type { SearchHit } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";

const DEBOUNCE_MS = 250;
const LIMIT = 30;

export type SearchState =
  | { status: "idle" }
  | { status: "searching"; query: string }
  | { status: "done"; query: string; hits: readonly SearchHit[] }
  | { status: "failed"; query: string; error: string };

/** The text in the search box. */
export const searchQuery = signal("");
export const searchState = signal<SearchState>({ status: "idle" });

let timer: ReturnType<typeof setTimeout> | undefined;
let latest = 0;

/** Searches every conversation of the user as they type (debounced; only the newest answer counts). */
export function setSearchQuery(text: string): void {
  searchQuery.value = text;
  clearTimeout(timer);
  const query = text.trim();
  if (!query) {
    latest += 1;
    searchState.value = { status: "idle" };
    return;
  }
  timer = setTimeout(() => void run(query), DEBOUNCE_MS);
}

export function clearSearch(): void {
  setSearchQuery("");
}

async function run(query: string): Promise<void> {
  latest += 1;
  const ticket = latest;
  searchState.value = { status: "searching", query };
  try {
    const { hits } = await api.searchSessions({ q: query, limit: LIMIT });
    if (ticket === latest) searchState.value = { status: "done", query, hits };
  } catch (error) {
    if (ticket === latest) searchState.value = { status: "failed", query, error: errorText(error) };
  }
}
