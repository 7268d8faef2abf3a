import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { COMMAND_NAMES, ERROR_CODES, EventPayloads, RunnerMethods } from "../../src/protocol/index.ts";

/**
 * Keeps docs/PROTOCOL.md in step with src/protocol: every command, event, error code and runner method
 * must be documented in its table, and every name in those tables must still exist in the code.
 */
const DOC_PATH = join(import.meta.dir, "../../docs/PROTOCOL.md");
const doc = await Bun.file(DOC_PATH).text();

/** Every `backticked` span of a piece of markdown. */
function backticked(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string));
}

/** The text of the section under `heading` (a full heading line), up to the next heading of any level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`docs/PROTOCOL.md has no heading "${heading}"`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,6} /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** Backticked names in the first column of the table rows of a section (header and divider rows skipped). */
function firstColumnNames(markdown: string, heading: string): Set<string> {
  const rows = section(markdown, heading)
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|[-| ]+\|$/.test(line));
  const names = new Set<string>();
  for (const row of rows.slice(1)) {
    const firstCell = row.split("|")[1] ?? "";
    for (const name of backticked(firstCell)) names.add(name);
  }
  if (names.size === 0) throw new Error(`the section "${heading}" has no table with backticked names`);
  return names;
}

const EVENT_NAMES = Object.keys(EventPayloads);
const RUNNER_METHOD_NAMES = Object.keys(RunnerMethods);

const TABLES = [
  { what: "command", heading: "### 1.3 Commands", names: COMMAND_NAMES as readonly string[] },
  { what: "event", heading: "### 1.4 Events", names: EVENT_NAMES },
  { what: "error code", heading: "### 3.6 Error codes", names: ERROR_CODES as readonly string[] },
  { what: "runner method", heading: "### 3.4 Methods (`RunnerMethods`)", names: RUNNER_METHOD_NAMES },
];

describe("docs/PROTOCOL.md", () => {
  const everywhere = backticked(doc);

  test("the code defines the names the checks rely on", () => {
    expect(COMMAND_NAMES.length).toBeGreaterThan(30);
    expect(EVENT_NAMES.length).toBeGreaterThan(25);
    expect(ERROR_CODES.length).toBeGreaterThan(20);
    expect(RUNNER_METHOD_NAMES.length).toBeGreaterThan(5);
  });

  for (const { what, heading, names } of TABLES) {
    test(`mentions every ${what} of the code in backticks`, () => {
      const missing = names.filter((name) => !everywhere.has(name));
      expect(missing).toEqual([]);
    });

    test(`documents every ${what} in the table of "${heading}"`, () => {
      const documented = firstColumnNames(doc, heading);
      const missing = names.filter((name) => !documented.has(name));
      expect(missing).toEqual([]);
    });

    test(`lists no ${what} in "${heading}" that the code no longer has`, () => {
      const known = new Set(names);
      const stale = [...firstColumnNames(doc, heading)].filter((name) => !known.has(name));
      expect(stale).toEqual([]);
    });
  }

  test("reads table first columns and ignores other columns", () => {
    const sample = "## A\n\n| name | x |\n|---|---|\n| `one`, `two` | `not-a-name` |\n\n## B\n| `three` |";
    expect([...firstColumnNames(sample, "## A")]).toEqual(["one", "two"]);
  });

  test("names a missing section or an empty table clearly", () => {
    expect(() => firstColumnNames(doc, "### 9.9 Nowhere")).toThrow(
      'docs/PROTOCOL.md has no heading "### 9.9 Nowhere"',
    );
    expect(() => firstColumnNames("## A\nno table here\n", "## A")).toThrow(
      'the section "## A" has no table with backticked names',
    );
  });
});
