/**
 * The main chat flow on a phone (390×844, touch), by taps only, against the whole product: the
 * session list is a drawer, files and terminal open full screen with a way back, and nothing
 * scrolls sideways. Screenshots of each step go to test-output/phone-*.png.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { seriousAccessibilityFindings } from "../helpers/axe.ts";
import { launchChromium, newPage, OUTPUT_DIR } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const PHONE = { width: 390, height: 844 };
const WORKSPACE = "pocket";
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
  writeFileSync(
    join(stack.workspaceRoot, WORKSPACE, "todo.md"),
    "# Todo\n\n- buy milk\n- a line long enough to wrap several times on a phone's narrow screen, which it must do without any sideways scrolling\n",
  );
  stack.own(join(stack.workspaceRoot, WORKSPACE));
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Nothing is wider than the screen: neither the page nor the conversation scrolls sideways. */
function sidewaysOverflow(page: Page): Promise<{ page: number; chat: number }> {
  return page.evaluate(() => {
    const chat = document.querySelector(".chat-scroll");
    return {
      page: document.documentElement.scrollWidth - window.innerWidth,
      chat: chat ? chat.scrollWidth - chat.clientWidth : 0,
    };
  });
}

/** Serious accessibility findings at phone size, of every step (asserted at the end of the test). */
const findings: string[] = [];

/** A screenshot of the step, and axe-core on it: touch targets and contrast matter most on a phone. */
async function step(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT_DIR, `phone-${name}.png`), animations: "disabled" });
  for (const finding of await seriousAccessibilityFindings(page, `phone ${name}`))
    findings.push(`${name}: ${finding}`);
}

/** The drawer's place on screen: its left edge is 0 when open and it is hidden when closed. */
const drawerShown = (page: Page) =>
  page
    .getByTestId("session-sidebar")
    .evaluate((el) => el.getBoundingClientRect().left >= 0 && getComputedStyle(el).visibility === "visible");

const focusedTestId = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("data-testid"));

test("by touch at 390 px: sign in, open a workspace, new session, send, answer, files, terminal, back to chat", async () => {
  const { context, page } = await newPage(browser, pageErrors, {
    viewport: PHONE,
    hasTouch: true,
    isMobile: true,
    deviceScaleFactor: 2,
  });
  await page.goto(`${stack.baseUrl}/`);
  await page.getByTestId("login-form").waitFor();
  await page.getByTestId("login-username").tap();
  await page.getByTestId("login-username").fill(stack.admin.username);
  await page.getByTestId("login-password").tap();
  await page.getByTestId("login-password").fill(stack.admin.password);
  await step(page, "sign-in");
  expect(await sidewaysOverflow(page)).toEqual({ page: 0, chat: 0 });
  await page.getByTestId("login-submit").tap();

  const item = page.getByTestId("workspace-item").filter({ hasText: WORKSPACE });
  await item.waitFor();
  await step(page, "workspaces");
  expect(await sidewaysOverflow(page)).toEqual({ page: 0, chat: 0 });
  await item.tap();

  // The session list is a drawer behind the menu button: closed, it is off screen and hidden.
  const toggle = page.getByTestId("sessions-toggle");
  await toggle.waitFor();
  expect(await drawerShown(page)).toBe(false);
  expect(await toggle.getAttribute("aria-expanded")).toBe("false");
  await toggle.tap();
  await page.waitForFunction(() => document.querySelector(".sidebar")?.getBoundingClientRect().left === 0);
  expect(await drawerShown(page)).toBe(true);
  expect(await toggle.getAttribute("aria-expanded")).toBe("true");
  // The focus moved into it; the chat behind it is inert.
  expect(await focusedTestId(page)).toBe("new-session");
  expect(await page.locator("main.chat-area").evaluate((el) => (el as HTMLElement).inert)).toBe(true);
  await step(page, "drawer");

  // A tap beside it closes it; so does Escape, and the focus goes back to the menu button.
  await page.getByTestId("sidebar-scrim").tap({ position: { x: 370, y: 400 } });
  await page.getByTestId("sidebar-scrim").waitFor({ state: "detached" });
  await page.waitForFunction(
    () => getComputedStyle(document.querySelector(".sidebar") as Element).visibility === "hidden",
  );
  await toggle.tap();
  await page.getByTestId("sidebar-scrim").waitFor();
  await page.keyboard.press("Escape");
  await page.getByTestId("sidebar-scrim").waitFor({ state: "detached" });
  await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "sessions-toggle");

  // Choosing "New session" in the drawer closes it and opens the chat.
  await toggle.tap();
  await page.getByTestId("new-session").tap();
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  expect(await page.getByTestId("sidebar-scrim").count()).toBe(0);

  stack.fakeLlm.script([
    {
      text: [
        "Here is a long line that must wrap: ",
        "`a-very-long-identifier-without-any-spaces-in-it-at-all-that-goes-on-and-on` ",
        "and a code block:\n\n```sh\necho this-command-line-is-longer-than-a-phone-screen-is-wide --with --many --flags\n```\n",
      ],
      delayMs: 40,
    },
  ]);
  const input = page.getByTestId("composer-input");
  await input.tap();
  await input.fill("What is on my list?");
  await page.getByTestId("composer-send").tap();
  await page.locator('[data-role="assistant"] .markdown', { hasText: "a code block" }).waitFor();
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  await step(page, "chat");
  expect(await sidewaysOverflow(page)).toEqual({ page: 0, chat: 0 });
  // The composer and the newest message fit the screen's width.
  for (const selector of ['[data-testid="composer-input"]', '[data-role="assistant"]']) {
    const box = await page.locator(selector).last().boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
  }

  // Files open full screen, over the app's header; a file opens by a tap.
  await page.getByTestId("toggle-files").tap();
  const panel = page.getByTestId("workspace-panel");
  await panel.waitFor();
  expect(await panel.boundingBox()).toEqual({ x: 0, y: 0, ...PHONE });
  await page.locator('[data-testid="file-node"][data-path="todo.md"]').tap();
  await page
    .locator('[data-testid="file-preview"][data-path="todo.md"] [data-testid="file-markdown"] li')
    .first()
    .waitFor();
  expect(await sidewaysOverflow(page)).toEqual({ page: 0, chat: 0 });
  await step(page, "files");

  // The terminal, the other tab, as well.
  await page.getByTestId("panel-tab-terminal").tap();
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="terminal-view"]')?.getAttribute("data-state");
    return state === "open" || state === "failed";
  });
  expect(await page.getByTestId("terminal-view").getAttribute("data-state")).toBe("open");
  expect(await panel.boundingBox()).toEqual({ x: 0, y: 0, ...PHONE });
  // A tap on the screen gives the shell the keys (the phone's keyboard types there).
  await page.locator(".xterm-screen").tap();
  await page.waitForFunction(() => document.activeElement?.classList.contains("xterm-helper-textarea"));
  await page.keyboard.type("echo phone-$((6*7))");
  await page.keyboard.press("Enter");
  await page.locator(".xterm-rows").getByText("phone-42", { exact: false }).first().waitFor();
  expect(await sidewaysOverflow(page)).toEqual({ page: 0, chat: 0 });
  await step(page, "terminal");

  // "Back to chat" closes the panel: the conversation is there as it was, and takes taps again.
  await page.getByTestId("panel-back").tap();
  await panel.waitFor({ state: "detached" });
  await page.locator('[data-role="assistant"] .markdown', { hasText: "a code block" }).waitFor();
  expect(await page.locator("main.chat-area").evaluate((el) => (el as HTMLElement).inert)).toBe(false);
  await page.waitForFunction(() => document.activeElement?.id === "panel-toggle-terminal");
  stack.fakeLlm.script([{ text: "Milk, and the long line." }]);
  await input.tap();
  await input.fill("And again?");
  await page.getByTestId("composer-send").tap();
  await page.locator('[data-role="assistant"] .markdown', { hasText: "Milk, and the long line." }).waitFor();
  await step(page, "back-to-chat");
  await context.close();
  expect(findings).toEqual([]);
}, 120_000);
