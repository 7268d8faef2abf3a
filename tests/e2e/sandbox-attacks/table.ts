/**
 * Renders the observed attack outcomes as the markdown table of docs/SECURITY.md and keeps the
 * document's marked section equal to it, so that the published table cannot go stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { PROFILES, type ProfileName } from "./attacks.ts";

export const BEGIN_MARKER = "<!-- attack-table:begin -->";
export const END_MARKER = "<!-- attack-table:end -->";

export interface TableRow {
  label: string;
  cells: Record<ProfileName, string>;
  note?: string;
}

const LEGEND = [
  "- *hidden (ENOENT)*: the path does not exist inside the sandbox (an empty tmpfs over it, or never mounted).",
  "- *denied (E…)*: the sandbox refused the operation with that error.",
  "- *private tmpfs (host unchanged)*: the write succeeded inside the sandbox but landed on a tmpfs that only",
  "  this sandbox sees; the file on the host was checked and is unchanged.",
  "- *as the host*: the sandbox adds no network restriction; the outcome matches the host's own attempt.",
  "- Writes marked *allowed* were found on the host with the agent's content; denied writes left nothing there.",
];

/** The marked section's body: the table, then a legend for its cells and the rows' notes. */
export function renderAttackTable(rows: readonly TableRow[]): string {
  const header = `| Attack (pi tool) | ${PROFILES.map((p) => `\`${p}\``).join(" | ")} |`;
  const rule = `|---|${PROFILES.map(() => "---").join("|")}|`;
  const body = rows.map((row) => `| ${row.label} | ${PROFILES.map((p) => row.cells[p]).join(" | ")} |`);
  const notes = rows.flatMap((row) => (row.note ? [`- ${row.label}: ${row.note}`] : []));
  return [header, rule, ...body, "", ...LEGEND, ...notes].join("\n");
}

function locate(text: string, file: string): { start: number; end: number } {
  const begin = text.indexOf(BEGIN_MARKER);
  const end = text.indexOf(END_MARKER);
  if (begin < 0 || end < begin)
    throw new Error(`${file}: markers ${BEGIN_MARKER} … ${END_MARKER} not found in order`);
  return { start: begin + BEGIN_MARKER.length, end };
}

/** The current body between the markers, without the surrounding newlines. */
export function readDocSection(file: string): string {
  const text = readFileSync(file, "utf8");
  const { start, end } = locate(text, file);
  return text.slice(start, end).replace(/^\n/, "").replace(/\n$/, "");
}

/** Replaces the body between the markers with `body`, leaving the rest of the document as it is. */
export function writeDocSection(file: string, body: string): void {
  const text = readFileSync(file, "utf8");
  const { start, end } = locate(text, file);
  writeFileSync(file, `${text.slice(0, start)}\n${body}\n${text.slice(end)}`);
}
