/**
 * What the composer completes at the caret: a `/command` (only at the start of the message, where
 * pi looks for one) or an `@path` (after a space or at the start).
 */
export interface CompletionToken {
  kind: "command" | "path";
  /** Where the token starts (its `/` or `@`). */
  start: number;
  /** The caret: the token ends here. */
  end: number;
  /** What was typed after the `/` or `@`. */
  query: string;
}

/** One entry of a completion list: what it shows and the text that replaces the token. */
export interface CompletionItem {
  id: string;
  label: string;
  detail?: string;
  badge?: string;
  insert: string;
  /** Completion goes on after inserting (a folder: its entries are listed next). */
  continues?: boolean;
}

const COMMAND = /^\/(\S*)$/;
const PATH = /(?:^|\s)@([^\s@]*)$/;

export function tokenAt(text: string, caret: number): CompletionToken | null {
  const before = text.slice(0, caret);
  const command = COMMAND.exec(before);
  if (command) return { kind: "command", start: 0, end: caret, query: command[1] ?? "" };
  const path = PATH.exec(before);
  if (path) {
    const query = path[1] ?? "";
    return { kind: "path", start: caret - query.length - 1, end: caret, query };
  }
  return null;
}

/** The text with the token replaced by the item, and the caret after it. */
export function applyCompletion(
  text: string,
  token: CompletionToken,
  item: CompletionItem,
): { text: string; caret: number } {
  const after = text.slice(token.end);
  // Do not double the space the user already has after the caret.
  const insert = item.insert.endsWith(" ") && after.startsWith(" ") ? item.insert.trimEnd() : item.insert;
  return { text: text.slice(0, token.start) + insert + after, caret: token.start + insert.length };
}

/** Items whose label starts with the query first, then those that contain it (case-insensitive). */
export function rankByQuery<T>(items: readonly T[], query: string, label: (item: T) => string): T[] {
  const q = query.toLowerCase();
  const starts: T[] = [];
  const contains: T[] = [];
  for (const item of items) {
    const name = label(item).toLowerCase();
    if (name.startsWith(q)) starts.push(item);
    else if (name.includes(q)) contains.push(item);
  }
  return [...starts, ...contains];
}
