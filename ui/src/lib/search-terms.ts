/** A piece of a search snippet: `match` pieces are the query's terms. */
export interface SnippetPiece {
  text: string;
  match: boolean;
}

const MAX_TERMS = 16;

/** The words of a query, for highlighting (quotes and search operators dropped). */
export function queryTerms(query: string): string[] {
  const terms = query
    .toLowerCase()
    .split(/[\s"'()*:^]+/)
    .filter((term) => term.length > 0 && !["and", "or", "not", "near"].includes(term));
  return [...new Set(terms)].slice(0, MAX_TERMS);
}

/**
 * Splits `text` into plain and matching pieces (case-insensitive). The result is rendered as text
 * nodes, never as HTML: snippets are user and agent content.
 */
export function splitByTerms(text: string, terms: readonly string[]): SnippetPiece[] {
  if (terms.length === 0) return [{ text, match: false }];
  const escaped = [...terms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(escaped.join("|"), "gi");
  const pieces: SnippetPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) pieces.push({ text: text.slice(last, match.index), match: false });
    pieces.push({ text: match[0], match: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), match: false });
  return pieces;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
