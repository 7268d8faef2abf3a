/**
 * axe-core on every main page of the UI, in a real browser against the whole product, in the light
 * and the dark theme: no serious or critical finding may remain (the rest is printed).
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { seriousAccessibilityFindings } from "../helpers/axe.ts";
import { launchChromium, newPage, signInState } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "a11y";
let stack: Stack;
let browser: Browser;
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: WORKSPACE }),
  });
  expect(created.status).toBe(201);
  const docs = join(stack.workspaceRoot, WORKSPACE, "docs");
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, "plan.md"), "# Plan\n\n- one\n- two\n");
  writeFileSync(join(stack.workspaceRoot, WORKSPACE, "main.ts"), "export const answer = 42;\n");
  stack.own(join(stack.workspaceRoot, WORKSPACE));
  signedInState = await signInState(browser, stack, pageErrors);
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * Audits the page in both themes (the theme follows the system's, emulated here) and adds the
 * serious findings to `findings`: a test asserts the whole list at its end, so one run shows them all.
 */
async function audit(page: Page, label: string, findings: string[]): Promise<void> {
  for (const colorScheme of ["light", "dark"] as const) {
    // Reduced motion: colours must not be read halfway through a theme transition.
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    const name = `${label} (${colorScheme})`;
    for (const finding of await seriousAccessibilityFindings(page, name))
      findings.push(`${name}: ${finding}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

test("sign-in, first-admin setup and registration pages", async () => {
  const findings: string[] = [];
  const { context, page } = await newPage(browser, pageErrors);
  await page.goto(`${stack.baseUrl}/login`);
  await page.getByTestId("login-form").waitFor();
  await audit(page, "sign-in", findings);
  // A failed sign-in shows its error: that state is audited too.
  await page.getByTestId("login-username").fill(stack.admin.username);
  await page.getByTestId("login-password").fill("not-the-password");
  await page.getByTestId("login-submit").click();
  await page.getByTestId("form-error").waitFor();
  await audit(page, "sign-in with an error", findings);
  // This stack has its admin, so the server sends /setup on to /login; the page itself is shown by
  // moving there in the app (as its history does), to audit the form a first start shows.
  await page.evaluate(() => {
    history.pushState(null, "", "/setup");
    window.dispatchEvent(new PopStateEvent("popstate"));
  });
  await page.getByTestId("setup-form").waitFor();
  await audit(page, "first-admin setup", findings);
  await page.goto(`${stack.baseUrl}/register`);
  await page.getByTestId("register-unavailable").waitFor();
  await audit(page, "registration", findings);
  await context.close();
  expect(findings).toEqual([]);
}, 60_000);

test("workspaces, chat with a streamed answer and a tool call, files with a file open, terminal", async () => {
  const findings: string[] = [];
  const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
  await page.goto(`${stack.baseUrl}/`);
  await page.getByTestId("workspace-item").filter({ hasText: WORKSPACE }).waitFor();
  await audit(page, "workspaces", findings);

  await page.getByTestId("workspace-item").filter({ hasText: WORKSPACE }).click();
  await page.getByTestId("new-session").first().waitFor();
  await audit(page, "workspace without a session", findings);

  await page.getByTestId("new-session").first().click();
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  await audit(page, "new session", findings);
  stack.fakeLlm.script([
    { toolCalls: [{ name: "read", arguments: { path: "docs/plan.md" } }] },
    { text: ["The plan has ", "**two** steps:\n\n", "```ts\nconst steps = 2;\n```\n"], delayMs: 50 },
  ]);
  await page.getByTestId("composer-input").fill("What does the plan say?");
  await page.getByTestId("composer-input").press("Enter");
  await page.locator('[data-testid="tool-card"][data-status="success"]').waitFor();
  await page.locator('[data-role="assistant"] .markdown', { hasText: "steps:" }).waitFor();
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  await page.locator('[data-testid="tool-card"] .tool-head').first().click();
  await page.getByTestId("tool-output").first().waitFor();
  await audit(page, "chat", findings);

  await page.getByTestId("toggle-files").click();
  await page.locator('[data-testid="file-node"][data-path="docs"]').click();
  await page.locator('[data-testid="file-node"][data-path="docs/plan.md"]').click();
  await page.locator('[data-testid="file-preview"][data-path="docs/plan.md"]').waitFor();
  await audit(page, "files with a markdown file open", findings);
  await page.locator('[data-testid="file-node"][data-path="main.ts"]').click();
  const code = page.locator('[data-testid="file-preview"][data-path="main.ts"]');
  await code.getByTestId("file-code").waitFor();
  await audit(page, "files with a code file open", findings);
  // The tree's context menu (Shift+F10) and a confirmation dialog (Delete), closed again with Escape.
  await page.locator('[data-testid="file-node"][data-path="main.ts"]').focus();
  await page.keyboard.press("Shift+F10");
  await page.getByTestId("context-menu").waitFor();
  await audit(page, "the file tree's context menu", findings);
  await page.keyboard.press("Escape");
  await page.getByTestId("context-menu").waitFor({ state: "detached" });
  await page.locator('[data-testid="file-node"][data-path="main.ts"]').focus();
  await page.keyboard.press("Delete");
  await page.getByTestId("dialog-confirm").waitFor();
  await audit(page, "a confirmation dialog", findings);
  await page.keyboard.press("Escape");
  await page.getByTestId("dialog-confirm").waitFor({ state: "detached" });
  await code.getByTestId("file-edit").click();
  await code.locator(".cm-content").waitFor();
  await audit(page, "files with the editor open", findings);

  await page.getByTestId("panel-tab-terminal").click();
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="terminal-view"]')?.getAttribute("data-state");
    return state === "open" || state === "failed";
  });
  await audit(page, "terminal", findings);
  await context.close();
  expect(findings).toEqual([]);
}, 120_000);

/** Waits until the main area has loaded what it shows (no "Loading…" left in it). */
const loaded = (page: Page) =>
  page.waitForFunction(() => {
    const main = document.querySelector("main");
    return (
      main !== null && !main.querySelector('[aria-busy="true"]') && !main.textContent?.includes("Loading…")
    );
  });

test("every administration page and the account page", async () => {
  const findings: string[] = [];
  const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
  await page.goto(`${stack.baseUrl}/admin/users`);
  await page.getByTestId("admin-link").waitFor();
  await page.locator(".data-table tbody tr").first().waitFor();
  await audit(page, "admin users", findings);
  // The other sections, as the administration's own tabs link them.
  const sections = await page
    .locator(".admin-nav a")
    .evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? ""));
  expect(sections.length).toBeGreaterThan(5);
  for (const path of sections.filter((href) => href !== "/admin/users")) {
    await page.goto(`${stack.baseUrl}${path}`);
    await page.locator(`.admin-nav [aria-current="page"][href="${path}"]`).waitFor();
    await loaded(page);
    await audit(page, `admin ${path}`, findings);
  }
  await page.goto(`${stack.baseUrl}/account`);
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await audit(page, "account", findings);
  await context.close();
  expect(findings).toEqual([]);
}, 60_000);
