import { SearchMode } from "../../gen/hstry_service_pb.ts";

/** Which FTS5 index answers a query: prose (porter stemming) or code (keeps `_ . / :` inside tokens). */
export type SearchIndex = "natural" | "code";

/** Characters and shapes that mark a query as code: identifiers, paths, URLs, calls, camelCase. */
const CODE_HINT = /[_./:()]|\p{Ll}\p{Lu}/u;

export function chooseSearchIndex(mode: SearchMode, query: string): SearchIndex {
  if (mode === SearchMode.NATURAL) return "natural";
  if (mode === SearchMode.CODE) return "code";
  return CODE_HINT.test(query) ? "code" : "natural";
}

/**
 * Turns user text into an FTS5 MATCH expression in which every whitespace-separated term is a quoted
 * phrase (inner quotes doubled). Operators (`OR`, `NEAR(`, `*`, `^`, column filters, parentheses) are
 * thereby plain text, so user input can never change the query's structure; all terms must match.
 * Returns null when the query has no terms.
 */
export function toMatchExpression(query: string): string | null {
  const terms = query.split(/\s+/u).filter((term) => term !== "");
  if (terms.length === 0) return null;
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" ");
}
