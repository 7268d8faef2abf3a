/**
 * Accounts in a real browser against the whole product: the admin's Users and Audit log pages and a
 * user's own Account page (profile, password, API keys), with the admin and the user in two browser
 * contexts. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signIn } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
/** Uncaught exceptions and CSP violations in the pages: any one fails the test that caused it. */
const pageErrors: string[] = [];
/** The admin's page and the new user's, kept across the tests, which tell one story in order. */
let admin: { context: BrowserContext; page: Page };
let bob: { context: BrowserContext; page: Page };

const BOB = "bob";
const PASSWORD = "harbor-violet-engine-61";
const NEW_PASSWORD = "quartz-lantern-meadow-94";

beforeAll(async () => {
  stack = await startStack({ noProvider: true });
  browser = await launchChromium();
  admin = await newPage(browser, pageErrors);
  await signIn(admin.page, stack);
}, 90_000);

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function api(token: string, method: string, path: string) {
  return fetch(`${stack.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
}

const userRow = (page: Page, username: string) =>
  page.locator(`[data-testid="user-row"][data-username="${username}"]`);

/** Opens the row's action menu and picks an item, then confirms the dialog it asks. */
async function userAction(page: Page, username: string, action: string): Promise<string> {
  await userRow(page, username).getByTestId("user-menu").click();
  await page.getByTestId(`user-action-${action}`).click();
  const dialog = page.getByTestId("confirm-dialog");
  const question = (await dialog.textContent()) ?? "";
  await dialog.getByTestId("dialog-confirm").click();
  await dialog.waitFor({ state: "detached" });
  return question;
}

/** True when nothing on the page is wider than the viewport (no sideways scrolling). */
function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const main = document.querySelector("main");
    return (
      document.documentElement.scrollWidth <= window.innerWidth &&
      main !== null &&
      main.scrollWidth <= main.clientWidth
    );
  });
}

describe("accounts", () => {
  test("the admin creates a user on the Users page; a weak password gets the server's reason", async () => {
    const { page } = admin;
    await page.getByTestId("admin-link").click();
    await page.waitForURL(/\/admin$/);
    await page.getByTestId("admin-nav-users").click();
    await page.waitForURL(/\/admin\/users$/);
    expect(await page.getByTestId("single-user-note").textContent()).toContain("same Linux user");
    await userRow(page, stack.admin.username).waitFor();

    await page.getByTestId("user-add").click();
    await page.getByTestId("new-user-username").fill(BOB);
    await page.getByTestId("new-user-display-name").fill("Bob");
    await page.getByTestId("new-user-password").fill("password1");
    await page.getByTestId("new-user-save").click();
    const error = page.getByTestId("user-form").getByTestId("form-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("too easy to guess");

    await page.getByTestId("new-user-password").fill(PASSWORD);
    await page.getByTestId("new-user-save").click();
    const row = userRow(page, BOB);
    await row.waitFor();
    await page.getByTestId("user-form").waitFor({ state: "detached" });
    expect(await row.getByTestId("user-role").textContent()).toBe("user");
    expect(await row.getByTestId("user-status").textContent()).toBe("active");
    expect(await row.textContent()).toContain("never");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-admin-users.png"), animations: "disabled" });
  });

  test("the user renames themself and makes an API key that works until deleted", async () => {
    bob = await newPage(browser, pageErrors, { permissions: ["clipboard-read", "clipboard-write"] });
    const { page } = bob;
    await page.goto(`${stack.baseUrl}/account`);
    await page.waitForURL(/\/login$/);
    await page.getByTestId("login-username").fill(BOB);
    await page.getByTestId("login-password").fill(PASSWORD);
    await page.getByTestId("login-submit").click();
    await page.waitForURL(/\/account$/);
    await page.getByRole("heading", { name: "Account" }).waitFor();
    expect(await page.getByTestId("user-name").textContent()).toBe("Bob");

    await page.getByTestId("profile-display-name").fill("Bob Builder");
    await page.getByTestId("profile-save").click();
    await page.getByTestId("profile-saved").waitFor();
    expect(await page.getByTestId("user-name").textContent()).toBe("Bob Builder");

    await page.getByTestId("api-key-name").fill("ci script");
    await page.getByTestId("api-key-expiry").selectOption({ label: "30 days" });
    await page.getByTestId("api-key-create").click();
    const dialog = page.getByTestId("new-api-key-dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("you will not see it again");
    const key = await page.getByTestId("new-api-key").inputValue();
    expect(key).toMatch(/^oqto_[A-Za-z0-9_-]{43}$/);
    await page.getByTestId("new-api-key-copy").click();
    await page.getByTestId("new-api-key-copy-status").getByText("Copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-account-new-key.png"), animations: "disabled" });
    await page.getByTestId("new-api-key-done").click();
    await dialog.waitFor({ state: "detached" });

    const me = await api(key, "GET", "/api/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username: BOB, display_name: "Bob Builder" });

    // After a reload the list shows the key by its prefix, used just now, expiring in 30 days.
    await page.reload();
    const row = page.locator('[data-testid="api-key-row"][data-key-name="ci script"]');
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 3)).toEqual([`${key.slice(0, 11)}…`, "just now", "just now"]);
    expect(cells[3]).not.toBe("never");
    expect(await page.getByTestId("api-keys").textContent()).not.toContain(key);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-account.png"), animations: "disabled" });

    await row.getByTestId("api-key-delete").click();
    await page.getByTestId("confirm-dialog").getByTestId("dialog-confirm").click();
    await row.waitFor({ state: "detached" });
    expect((await api(key, "GET", "/api/me")).status).toBe(401);
  });

  test("a weak new password shows the server's reason; after a good one the page stays signed in", async () => {
    const { page } = bob;
    const form = page.getByTestId("password-form");
    await page.getByTestId("password-current").fill(PASSWORD);
    await page.getByTestId("password-new").fill("password123");
    await page.getByTestId("password-repeat").fill("password123");
    await page.getByTestId("password-save").click();
    const error = form.getByTestId("form-error");
    await error.waitFor();
    expect(await error.textContent()).toStartWith("the password is too easy to guess:");

    await page.getByTestId("password-new").fill(NEW_PASSWORD);
    await page.getByTestId("password-repeat").fill(NEW_PASSWORD);
    await page.getByTestId("password-save").click();
    await page.getByTestId("password-changed").waitFor();
    // The server closed this page's socket with the old session; it comes back on the new cookie.
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    expect(await page.evaluate(async () => (await fetch("/api/me")).status)).toBe(200);
    await page.reload();
    await page.getByRole("heading", { name: "Account" }).waitFor();
    expect(page.url()).toEndWith("/account");
  });

  test("the admin deactivates the user, whose open page goes to /login", async () => {
    const { page } = admin;
    const question = await userAction(page, BOB, "deactivate");
    expect(question).toContain("signed out everywhere");
    const row = page.locator(`[data-testid="user-row"][data-username="${BOB}"][data-active="false"]`);
    await row.waitFor();
    expect(await row.getByTestId("user-status").textContent()).toBe("deactivated");
    await bob.page.waitForURL(/\/login$/);
    await bob.page.getByTestId("login-form").waitFor();
  });

  test("the audit log lists the changes newest first, pages with Load more and filters by action", async () => {
    // 60 more entries push the user's creation off the first page of 50.
    for (let i = 0; i < 30; i++) {
      const created = await fetch(`${stack.baseUrl}/api/keys`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
        body: JSON.stringify({ name: `bulk ${i}` }),
      });
      const { id } = (await created.json()) as { id: string };
      expect((await api(stack.admin.token, "DELETE", `/api/keys/${id}`)).status).toBe(204);
    }
    const all = (await (await api(stack.admin.token, "GET", "/api/admin/audit?limit=500")).json()) as {
      entries: unknown[];
    };
    expect(all.entries.length).toBeGreaterThan(50);
    expect(all.entries.length).toBeLessThanOrEqual(100);

    const { page } = admin;
    await page.getByTestId("admin-nav-audit").click();
    await page.waitForURL(/\/admin\/audit$/);
    const rows = page.getByTestId("audit-row");
    await page.getByTestId("audit-load-more").waitFor();
    expect(await rows.count()).toBe(50);
    expect(await rows.first().getAttribute("data-action")).toBe("account.key_delete");
    const times = await rows
      .locator("time")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("datetime")));
    expect(times).toEqual([...times].sort().reverse());
    expect(await page.locator('[data-action="admin.user_create"]').count()).toBe(0);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-admin-audit.png"), animations: "disabled" });

    await page.getByTestId("audit-load-more").click();
    await page.getByTestId("audit-end").waitFor();
    expect(await rows.count()).toBe(all.entries.length);
    const created = page.locator('[data-testid="audit-row"][data-action="admin.user_create"]');
    expect(await created.getByTestId("audit-actor").textContent()).toBe(stack.admin.username);
    expect(await created.getByTestId("audit-target").textContent()).toBe(BOB);
    expect(await created.textContent()).toContain("127.0.0.1");

    await page.getByTestId("audit-filter").selectOption("admin.user_update");
    const updated = page.locator('[data-testid="audit-row"][data-action="admin.user_update"]');
    await updated.first().waitFor();
    await page.getByTestId("audit-end").waitFor();
    expect(await rows.count()).toBe(1);
    expect(await updated.getByTestId("audit-target").textContent()).toBe(BOB);
    expect(await updated.textContent()).toContain("is_active: false");
  });

  test("the last active admin cannot demote themself: the server's 409 is shown", async () => {
    const { page } = admin;
    await page.getByTestId("admin-nav-users").click();
    await page.waitForURL(/\/admin\/users$/);
    const question = await userAction(page, stack.admin.username, "role");
    expect(question).toContain("This is your own account");
    const error = page.getByTestId("form-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("the last active admin");
    expect(await userRow(page, stack.admin.username).getByTestId("user-role").textContent()).toBe("admin");
    expect(page.url()).toEndWith("/admin/users");
  });

  test("the admin activates the user, resets their password and deletes them", async () => {
    const { page } = admin;
    await userRow(page, BOB).getByTestId("user-menu").click();
    await page.getByTestId("user-action-activate").click();
    await page.locator(`[data-testid="user-row"][data-username="${BOB}"][data-active="true"]`).waitFor();

    await userRow(page, BOB).getByTestId("user-menu").click();
    await page.getByTestId("user-action-reset-password").click();
    const dialog = page.getByTestId("reset-password-dialog");
    await page.getByTestId("reset-password-input").fill("12345678");
    await page.getByTestId("reset-password-save").click();
    expect(await dialog.getByTestId("form-error").textContent()).toContain("too easy to guess");
    const reset = "sparrow-granite-velvet-38";
    await page.getByTestId("reset-password-input").fill(reset);
    await page.getByTestId("reset-password-save").click();
    await dialog.waitFor({ state: "detached" });
    const login = await fetch(`${stack.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: BOB, password: reset }),
    });
    expect(login.status).toBe(200);

    expect(await userAction(page, BOB, "delete")).toContain("removed for good");
    await userRow(page, BOB).waitFor({ state: "detached" });
    expect(await page.getByTestId("user-row").count()).toBe(1);
  });

  test("the account and admin pages fit a 390 px screen", async () => {
    const { page } = admin;
    await page.setViewportSize({ width: 390, height: 800 });
    await userRow(page, stack.admin.username).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-admin-users-mobile.png"), animations: "disabled" });

    await page.getByTestId("admin-nav-audit").click();
    await page.getByTestId("audit-row").first().waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-admin-audit-mobile.png"), animations: "disabled" });

    const account = page.getByTestId("account-link");
    const box = await account.boundingBox();
    expect(box && box.x + box.width <= 390).toBe(true);
    await account.click();
    await page.waitForURL(/\/account$/);
    await page.getByText("No API keys yet.").waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await page.getByTestId("api-key-name").fill("phone");
    await page.getByTestId("api-key-create").click();
    const dialog = page.getByTestId("new-api-key-dialog");
    await dialog.waitFor();
    const modal = await dialog.boundingBox();
    expect(modal && modal.x >= 0 && modal.x + modal.width <= 390).toBe(true);
    await page.getByTestId("new-api-key-done").click();
    const row = page.locator('[data-testid="api-key-row"][data-key-name="phone"]');
    await row.scrollIntoViewIfNeeded();
    expect(await fitsWidth(page)).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-account-mobile.png"), animations: "disabled" });

    // The header's widest form, a workspace's (its name and sandbox badge), still has room for the account link.
    const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
      body: JSON.stringify({ name: "demo" }),
    });
    expect(created.status).toBe(201);
    await page.goto(`${stack.baseUrl}/w/demo`);
    await page.getByTestId("sandbox-badge").waitFor();
    const [nav, badge, tools] = await Promise.all(
      [page.locator(".app-nav"), page.getByTestId("sandbox-badge"), page.locator(".app-header-tools")].map(
        (locator) => locator.boundingBox(),
      ),
    );
    expect(nav && badge && tools && badge.x + badge.width <= nav.x + nav.width).toBe(true);
    expect(nav && tools && nav.x + nav.width <= tools.x && tools.x + tools.width <= 390).toBe(true);
  });
});
