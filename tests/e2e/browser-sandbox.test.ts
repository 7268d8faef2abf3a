/**
 * The workspace sandbox in a real browser (Chromium via playwright-core) against the whole product:
 * the header badge shows the profile in force, and its dialog makes the workspace stricter.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signIn } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
/** Uncaught exceptions in the page: any one fails the test that caused it. */
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startStack({ noProvider: true });
  browser = await launchChromium();
}, 90_000);

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function sandboxOverRest(workspace: string): Promise<{ profile: string; profiles: string[] }> {
  const response = await fetch(`${stack.baseUrl}/api/workspaces/${workspace}/sandbox`, {
    headers: { authorization: `Bearer ${stack.admin.token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { profile: string; profiles: string[] };
}

const optionsOf = (page: Page) =>
  page
    .getByTestId("sandbox-select")
    .locator("option")
    .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));

async function openSignedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, pageErrors);
  await signIn(page, stack);
  return { context, page };
}

test("the header badge shows the profile; applying strict tightens the workspace for good", async () => {
  const { context, page } = await openSignedIn();
  await page.getByTestId("workspace-name-input").fill("vault");
  await page.getByTestId("workspace-create").click();
  await page.waitForURL(/\/w\/vault$/);

  const badge = page.getByTestId("sandbox-badge");
  await page.locator('[data-testid="sandbox-badge"][data-profile="development"]').waitFor();
  expect(await badge.textContent()).toBe("development");
  await badge.click();
  const dialog = page.getByRole("dialog", { name: "Sandbox of vault" });
  await dialog.waitFor();
  const summary = await page.getByTestId("sandbox-summary").textContent();
  expect(summary).toContain("network open");
  expect(summary).toContain("home read-only, writable: .cache, .cargo");
  expect(summary).toContain(".ssh");
  expect(summary).not.toContain("Agents cannot run");
  expect(await dialog.getByRole("note").textContent()).toContain("can only be made stricter");
  expect(await optionsOf(page)).toEqual(["development", "strict"]);
  // Nothing to apply until another profile is chosen.
  expect(await page.getByTestId("sandbox-apply").isDisabled()).toBe(true);

  await page.getByTestId("sandbox-select").selectOption("strict");
  await page.getByTestId("sandbox-apply").click();
  await dialog.waitFor({ state: "detached" });
  await page.locator('[data-testid="sandbox-badge"][data-profile="strict"]').waitFor();
  expect(await badge.textContent()).toBe("strict");
  expect((await sandboxOverRest("vault")).profile).toBe("strict");

  await badge.click();
  await dialog.waitFor();
  const strictSummary = await page.getByTestId("sandbox-summary").textContent();
  expect(strictSummary).toContain("network isolated");
  expect(strictSummary).toContain("home read-only, writable: tmp,");
  expect(strictSummary).toContain("Agents reach only their LLM");
  expect(await optionsOf(page)).toEqual(["strict"]);
  await page.screenshot({ path: join(OUTPUT_DIR, "ui-sandbox.png"), animations: "disabled" });
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });

  // The workspace list (reloaded when shown) names the new profile too.
  await page.getByRole("link", { name: "Oqto" }).click();
  const listed = page.locator('[data-workspace="vault"] [data-testid="workspace-sandbox"]');
  await listed.filter({ hasText: "strict" }).waitFor();
  expect(await listed.textContent()).toBe("Sandbox profile: strict");
  await context.close();
}, 90_000);

test("a workspace whose stored profile no longer exists shows as invalid in the list and its error in the dialog", async () => {
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "broken" }),
  });
  const { path } = (await created.json()) as { path: string };
  // As if the profile the owner chose had since been removed from the system file.
  const store = join(stack.runnerDataDir, "runner", "workspace-profiles.json");
  const current = existsSync(store)
    ? JSON.parse(readFileSync(store, "utf8"))
    : { version: 1, workspaces: {} };
  current.workspaces[path] = "no-such-profile";
  writeFileSync(store, JSON.stringify(current));
  stack.own(store);

  const { context, page } = await openSignedIn();
  const listed = page.locator('[data-workspace="broken"] [data-testid="workspace-sandbox"]');
  expect(await listed.textContent()).toBe("Sandbox profile: invalid");
  expect(await listed.getAttribute("data-invalid")).toBe("true");

  await page.locator('[data-workspace="broken"]').click();
  await page.waitForURL(/\/w\/broken$/);
  const badge = page.locator('[data-testid="sandbox-badge"][data-state="error"]');
  await badge.waitFor();
  expect(await badge.textContent()).toBe("sandbox error");
  await badge.click();
  const error = page.getByRole("dialog", { name: "Sandbox of broken" }).getByTestId("form-error");
  expect(await error.textContent()).toContain("no-such-profile");
  // Without a readable sandbox there is nothing to choose or apply.
  expect(await page.getByTestId("sandbox-select").count()).toBe(0);
  await context.close();
}, 60_000);
