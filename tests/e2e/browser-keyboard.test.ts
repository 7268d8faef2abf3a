/**
 * The main flows with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrow keys, F6; no clicks),
 * in a real browser against the whole product: sign in, open a workspace, new session, send, stop a
 * turn, open a file, use the terminal and leave it. Every control Tab reaches shows its focus.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "keys";
/** Enough stops for any walk here; more means the focus is lost or trapped. */
const MAX_TAB_STOPS = 60;
let stack: Stack;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: WORKSPACE }),
  });
  expect(created.status).toBe(201);
  writeFileSync(join(stack.workspaceRoot, WORKSPACE, "readme.md"), "# Keys\n\nOpened without a mouse.\n");
  stack.own(join(stack.workspaceRoot, WORKSPACE));
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * What has the focus (its start tag), and whether the focus is drawn: on the element (an outline or
 * a ring as box shadow, under :focus-visible), or on a box around it that a `:focus-within` rule of
 * the page's styles outlines, rings or recolours (the composer, the search box).
 */
function focused(page: Page): Promise<{ description: string; shown: boolean }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return { description: "<body>", shown: false };
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) > 0;
    const own = element.matches(":focus-visible") && (outline || style.boxShadow !== "none");
    const ringRules: string[] = [];
    const collect = (rules: CSSRuleList) => {
      for (const rule of rules) {
        if (rule instanceof CSSStyleRule && rule.selectorText.includes(":focus-within")) {
          const drawn = ["outline", "box-shadow", "border-color"].some(
            (p) => rule.style.getPropertyValue(p) !== "",
          );
          if (drawn) ringRules.push(rule.selectorText);
        } else if (rule instanceof CSSGroupingRule) collect(rule.cssRules);
      }
    };
    for (const sheet of document.styleSheets) collect(sheet.cssRules);
    let box = element.parentElement;
    let around = false;
    for (let level = 0; box && level < 3 && !around; level++, box = box.parentElement) {
      const candidate = box;
      around = ringRules.some((selector) => candidate.matches(selector));
    }
    return { description: element.outerHTML.slice(0, 140), shown: own || around };
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focus is on `selector`, at most MAX_TAB_STOPS times; each
 * stop on the way must show its focus (added to `unseen` when it does not).
 */
async function tabTo(page: Page, selector: string, unseen: string[], backwards = false): Promise<void> {
  for (let stop = 0; stop < MAX_TAB_STOPS; stop++) {
    await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
    const here = await focused(page);
    if (!here.shown) unseen.push(here.description);
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${MAX_TAB_STOPS} presses of ${backwards ? "Shift+Tab" : "Tab"} did not reach ${selector}`);
}

const isFocused = (page: Page, selector: string) =>
  page.waitForFunction((s) => document.activeElement?.matches(s) ?? false, selector);

test("sign in, new session, send, stop, open a file, the terminal and back, by keyboard only", async () => {
  const unseen: string[] = [];
  const { context, page } = await newPage(browser, pageErrors);
  await page.goto(`${stack.baseUrl}/`);
  await page.getByTestId("login-form").waitFor();

  await tabTo(page, '[data-testid="login-username"]', unseen);
  await page.keyboard.type(stack.admin.username);
  await tabTo(page, '[data-testid="login-password"]', unseen);
  await page.keyboard.type(stack.admin.password);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Workspaces" }).waitFor();

  await tabTo(page, `[data-testid="workspace-item"][data-workspace="${WORKSPACE}"]`, unseen);
  await page.keyboard.press("Enter");
  await page.waitForURL(new RegExp(`/w/${WORKSPACE}$`));

  await tabTo(page, '[data-testid="new-session"]', unseen);
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

  // Send, and see the answer.
  stack.fakeLlm.script([
    { match: "greet", text: "Hello from the keyboard test." },
    { match: "story", text: Array.from({ length: 400 }, (_, i) => `w${i} `), delayMs: 40 },
  ]);
  await tabTo(page, '[data-testid="composer-input"]', unseen);
  await page.keyboard.type("please greet me");
  await page.keyboard.press("Enter");
  await page
    .locator('[data-role="assistant"] .markdown', { hasText: "Hello from the keyboard test." })
    .waitFor();
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

  // Stop a turn: from the composer, Tab reaches the stop button; Space presses it.
  await isFocused(page, '[data-testid="composer-input"]');
  await page.keyboard.type("tell a long story");
  await page.keyboard.press("Enter");
  await page.getByTestId("abort-button").waitFor();
  await tabTo(page, '[data-testid="abort-button"]', unseen);
  await page.keyboard.press("Space");
  await page.getByText("Stopped.").waitFor();
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

  // Open a file: back up to the files toggle in the chat's header; the panel takes the focus.
  await tabTo(page, "#panel-toggle-files", unseen, true);
  await page.keyboard.press("Enter");
  await isFocused(page, "#panel-tab-files");
  await tabTo(page, '[data-testid="file-node"][data-path="readme.md"]', unseen);
  await page.keyboard.press("Enter");
  await page
    .locator('[data-testid="file-preview"][data-path="readme.md"] [data-testid="file-markdown"]')
    .waitFor();
  expect(
    await page.locator('[data-testid="file-preview"] [data-testid="file-markdown"]').textContent(),
  ).toContain("Opened without a mouse.");
  await page.screenshot({ path: join(OUTPUT_DIR, "keyboard-files.png"), animations: "disabled" });

  // The terminal: the arrow key moves along the panel's tabs; the shell takes the keys.
  await tabTo(page, "#panel-tab-files", unseen, true);
  await page.keyboard.press("ArrowRight");
  await isFocused(page, "#panel-tab-terminal");
  await page.locator('[data-testid="terminal-view"][data-state="open"]').waitFor();
  await isFocused(page, ".xterm-helper-textarea");
  await page.keyboard.type("echo keys-$((6*7))");
  await page.keyboard.press("Enter");
  await page.locator(".xterm-rows").getByText("keys-42", { exact: false }).first().waitFor();
  // Tab completes in the shell; F6 leaves it, to the terminal's tab.
  await page.keyboard.press("Tab");
  await isFocused(page, ".xterm-helper-textarea");
  await page.keyboard.press("F6");
  await isFocused(page, '.terminal-tab[data-active="true"] .terminal-tab-label');
  await page.screenshot({ path: join(OUTPUT_DIR, "keyboard-terminal.png"), animations: "disabled" });

  // Closing the panel gives the focus back to the chat's header, where the terminal was opened from.
  await tabTo(page, '[data-testid="panel-close"]', unseen, true);
  await page.keyboard.press("Enter");
  await page.getByTestId("workspace-panel").waitFor({ state: "detached" });
  await isFocused(page, "#panel-toggle-terminal");

  await context.close();
  expect(unseen).toEqual([]);
}, 120_000);
