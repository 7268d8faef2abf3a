/**
 * Runs axe-core in a page of the UI. Its source goes in through the DevTools protocol
 * (`page.evaluate`), which the page's Content-Security-Policy does not govern, so the UI's policy
 * stays as strict for the tests as it is in production.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** The impacts that fail a test; the others are printed to be looked at. */
const BLOCKING = new Set(["serious", "critical"]);

interface AxeCheck {
  relatedNodes?: { html: string }[];
}
interface AxeNode {
  target: unknown[];
  failureSummary?: string;
  any: AxeCheck[];
  all: AxeCheck[];
  none: AxeCheck[];
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: AxeNode[];
}

/** One line a person can act on: the rule, its impact, what it asks and where (up to three places). */
function oneLine(violation: AxeViolation): string {
  const where = violation.nodes
    .slice(0, 3)
    .map((node) => node.target.map(String).join(" "))
    .join(" | ");
  const more = violation.nodes.length > 3 ? ` (+${violation.nodes.length - 3} more)` : "";
  // The first place's reason says what is wrong there (for contrast: the two colours and the ratio).
  const first = violation.nodes[0];
  const why = (first?.failureSummary ?? "").split("\n").slice(1).join(" ").trim();
  // The element the rule relates to the place (for target size: what covers it), shortened.
  const checks = first ? [...first.any, ...first.all, ...first.none] : [];
  const related = checks.flatMap((check) => check.relatedNodes ?? [])[0]?.html.slice(0, 160);
  return `${violation.id} [${violation.impact}] ${violation.help}: ${where}${more}${why ? ` — ${why}` : ""}${related ? ` (related: ${related})` : ""}`;
}

/**
 * Audits the page as it is now (WCAG 2.x A and AA plus axe's best practices) and returns the
 * serious and critical findings, one line each; the minor and moderate ones are printed under
 * `label`. Frames are left out: previews of workspace files are the user's content, not the UI.
 */
export async function seriousAccessibilityFindings(page: Page, label: string): Promise<string[]> {
  const injected = await page.evaluate(() => "axe" in window);
  if (!injected) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<unknown> } }).axe;
    const result = (await axe.run(document, {
      iframes: false,
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
      },
      resultTypes: ["violations"],
    })) as { violations: unknown[] };
    return result.violations;
  });
  const found = violations as AxeViolation[];
  const other = found.filter((v) => !BLOCKING.has(v.impact ?? ""));
  if (other.length > 0) console.log(`axe on ${label}, below serious:\n  ${other.map(oneLine).join("\n  ")}`);
  return found.filter((v) => BLOCKING.has(v.impact ?? "")).map(oneLine);
}
