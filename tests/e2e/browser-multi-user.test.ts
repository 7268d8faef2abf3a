/**
 * Multi-user mode in a real browser, as root: the admin makes an invite code in the Invites tab, a
 * second person registers with its link, gets a Linux user of their own and chats with real pi
 * (fake LLM); the admin sees that session in the Sessions tab and stops it, and the person's page
 * shows it stopped; the used code is refused. The tests tell one story, in order. A single-user
 * server, for contrast, offers no registration and says why. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { launchChromium, newPage, OUTPUT_DIR, signIn } from "../helpers/browser.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const CAROL = "carol";
const PASSWORD = "harbor-violet-engine-61";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 820 };

let stack: MultiUserStack;
let browser: Browser;
/** Uncaught exceptions and CSP violations in the pages: any one fails the test that caused it. */
const pageErrors: string[] = [];
let admin: { context: BrowserContext; page: Page };
let carol: { context: BrowserContext; page: Page };
/** The single-use code the admin made for carol, and its registration link, as the page showed them. */
let code = "";
let link = "";

/** True when nothing on the page is wider than the viewport (no sideways scrolling), the admin tabs included. */
function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const main = document.querySelector("main");
    const tabs = document.querySelector(".admin-nav");
    return (
      document.documentElement.scrollWidth <= window.innerWidth &&
      main !== null &&
      main.scrollWidth <= main.clientWidth &&
      (tabs === null || tabs.scrollWidth <= tabs.clientWidth)
    );
  });
}

/** A screenshot at desktop size and one at phone width, where the layout must still fit. */
async function screenshots(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), animations: "disabled", fullPage: true });
  await page.setViewportSize(PHONE);
  expect(await fitsWidth(page)).toBe(true);
  await page.screenshot({
    path: join(OUTPUT_DIR, `${name}-mobile.png`),
    animations: "disabled",
    fullPage: true,
  });
  await page.setViewportSize(DESKTOP);
}

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
});

describe.skipIf(process.getuid?.() !== 0)("multi-user mode in the browser", () => {
  beforeAll(async () => {
    stack = await startMultiUserStack();
    admin = await newPage(browser, pageErrors, { permissions: ["clipboard-read", "clipboard-write"] });
  }, 60_000);

  afterAll(async () => {
    await admin?.context.close();
    await carol?.context.close();
    await stack?.stop();
  });

  test("the admin signs in (the login page offers registration) and the Users page names the mode", async () => {
    const { page } = admin;
    await page.goto(`${stack.baseUrl}/login`);
    await page.getByTestId("register-link").waitFor();
    await signIn(page, stack);
    await page.getByTestId("admin-link").click();
    await page.getByTestId("admin-nav-users").click();
    await page.waitForURL(/\/admin\/users$/);
    expect(await page.getByTestId("multi-user-note").textContent()).toContain("own Linux user oqto_<name>");
    expect(await page.getByTestId("single-user-note").count()).toBe(0);
    await page.screenshot({
      path: join(OUTPUT_DIR, "ui-admin-users-multi-user.png"),
      animations: "disabled",
    });
  });

  test("the admin makes a code in the Invites tab: shown once with a registration link, then listed by prefix", async () => {
    const { page } = admin;
    await page.getByTestId("admin-nav-invites").click();
    await page.waitForURL(/\/admin\/invites$/);
    await page.getByText("No invite codes yet.").waitFor();

    await page.getByTestId("invite-add").click();
    await page.getByTestId("invite-note").fill("for Carol");
    await page.getByTestId("invite-create").click();
    const dialog = page.getByTestId("new-invites-dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("you will not see it again");
    code = await dialog.getByTestId("new-invite-code").inputValue();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    link = await dialog.getByTestId("new-invite-link").inputValue();
    expect(link).toBe(`${stack.baseUrl}/register?code=${code}`);
    await dialog.getByTestId("new-invite-link-copy").click();
    await dialog.getByTestId("new-invites-copy-status").getByText("copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-admin-new-invite.png"), animations: "disabled" });
    await dialog.getByTestId("new-invites-done").click();
    await dialog.waitFor({ state: "detached" });

    const row = page.locator(`[data-testid="invite-row"][data-prefix="${code.slice(0, 5)}"]`);
    await row.waitFor();
    expect(await row.getByTestId("invite-state").textContent()).toBe("active");
    expect(await row.getByTestId("invite-uses-cell").textContent()).toBe("0 of 1 (1 left)");
    expect(await row.textContent()).toContain("for Carol");
    expect(await page.locator("main").textContent()).not.toContain(code);

    // A batch: two codes of three uses each, shown together; one of them is revoked after a question.
    await page.getByTestId("invite-add").click();
    await page.getByTestId("invite-uses").fill("3");
    await page.getByTestId("invite-count").fill("2");
    await page.getByTestId("invite-expiry").selectOption({ label: "30 days" });
    await page.getByTestId("invite-create").click();
    await dialog.waitFor();
    expect(await dialog.getByTestId("new-invite").count()).toBe(2);
    const batch = await dialog
      .getByTestId("new-invite-code")
      .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
    await dialog.getByTestId("new-invites-done").click();
    await dialog.waitFor({ state: "detached" });
    expect(await page.getByTestId("invite-row").count()).toBe(3);
    const revoked = page.locator(`[data-testid="invite-row"][data-prefix="${batch[0]?.slice(0, 5)}"]`);
    await revoked.getByTestId("invite-revoke").click();
    const confirm = page.getByTestId("confirm-dialog");
    expect(await confirm.textContent()).toContain("3 of 3 uses left");
    await confirm.getByTestId("dialog-confirm").click();
    await page
      .locator(`[data-testid="invite-row"][data-prefix="${batch[0]?.slice(0, 5)}"][data-state="revoked"]`)
      .waitFor();
    expect(await revoked.getByTestId("invite-revoke").count()).toBe(0);
    await screenshots(page, "ui-admin-invites");
  });

  test("the admin opens the Sessions tab: nothing runs yet", async () => {
    const { page } = admin;
    await page.getByTestId("admin-nav-sessions").click();
    await page.waitForURL(/\/admin\/sessions$/);
    await page.getByText("No session is running.").waitFor();
  });

  test("carol registers from the link: the server's reasons show, then she lands on her workspaces and chats", async () => {
    carol = await newPage(browser, pageErrors);
    const { page } = carol;
    await page.goto(link);
    await page.getByTestId("register-form").waitFor();
    expect(page.url()).toBe(link);
    expect(await page.getByTestId("register-code").inputValue()).toBe(code);
    await page.getByTestId("register-username").fill(CAROL);
    await page.getByTestId("register-display-name").fill("Carol");
    await page.getByTestId("register-password").fill("password1");
    await page.getByTestId("register-password-confirm").fill("password1");
    await page.getByTestId("register-submit").click();
    const error = page.getByTestId("form-error");
    await error.waitFor();
    expect(await error.textContent()).toStartWith("the password is too easy to guess");
    await screenshots(page, "ui-register");

    await page.getByTestId("register-password").fill(PASSWORD);
    await page.getByTestId("register-password-confirm").fill(PASSWORD);
    await page.getByTestId("register-submit").click();
    await page.getByRole("heading", { name: "Workspaces" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await page.getByTestId("user-name").textContent()).toBe("Carol");
    expect((await carol.context.cookies()).some((c) => c.name === "auth_token" && c.httpOnly)).toBe(true);

    await page.getByTestId("workspace-name-input").fill("notes");
    await page.getByTestId("workspace-create").click();
    await page.waitForURL(/\/w\/notes$/);
    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
    stack.fakeLlm.script([{ text: "hello carol" }]);
    const input = page.getByTestId("composer-input");
    await input.fill("Hi, who am I?");
    await input.press("Enter");
    await page
      .locator('[data-testid="chat-message"][data-role="assistant"] .markdown', { hasText: "hello carol" })
      .waitFor();
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  }, 60_000);

  test("the admin's Sessions tab shows carol's session by itself; stopping it ends carol's session on her page", async () => {
    const { page } = admin;
    const sessionId = decodeURIComponent(carol.page.url().split("/s/")[1] ?? "");
    // No click on Refresh: the open tab asks again every few seconds.
    const row = page.locator(`[data-testid="admin-session-row"][data-session-id="${sessionId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute("data-username")).toBe(CAROL);
    expect(await row.getByTestId("admin-session-workspace").textContent()).toBe("notes");
    // A refresh during carol's turn may have shown it working; a later one shows it done.
    await row.locator('[data-testid="admin-session-state"][data-state="idle"]').waitFor({ timeout: 15_000 });
    expect(await row.getByTestId("admin-session-state").textContent()).toBe("idle");
    expect(await row.locator('td[data-label="PID"]').textContent()).toMatch(/^\d+$/);
    await screenshots(page, "ui-admin-sessions");

    await row.getByTestId("admin-session-stop").click();
    const confirm = page.getByTestId("confirm-dialog");
    expect(await confirm.textContent()).toContain(`Stop the session of ${CAROL}?`);
    await confirm.getByTestId("dialog-confirm").click();
    await row.waitFor({ state: "detached" });
    await page.getByText("No session is running.").waitFor();

    const state = carol.page.locator('[data-testid="session-state"][data-state="closed"]');
    await state.waitFor();
    expect(await state.textContent()).toBe("Stopped");
    // The conversation stays on her page.
    expect(await carol.page.locator('[data-role="assistant"] .markdown').last().textContent()).toContain(
      "hello carol",
    );
    await carol.page.screenshot({ path: join(OUTPUT_DIR, "ui-chat-stopped.png"), animations: "disabled" });

    // As the stop dialog promised: a new prompt resumes the conversation.
    stack.fakeLlm.script([{ text: "welcome back" }]);
    await carol.page.getByTestId("composer-input").fill("Still there?");
    await carol.page.getByTestId("composer-input").press("Enter");
    await carol.page
      .locator('[data-testid="chat-message"][data-role="assistant"] .markdown', { hasText: "welcome back" })
      .waitFor();
    await carol.page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  });

  test("the used code, on /register again, gets the server's refusal and makes no account", async () => {
    const { context, page } = await newPage(browser, pageErrors);
    await page.goto(link);
    await page.getByTestId("register-username").fill("dave");
    await page.getByTestId("register-password").fill(PASSWORD);
    await page.getByTestId("register-password-confirm").fill(PASSWORD);
    await page.getByTestId("register-submit").click();
    const error = page.getByTestId("form-error");
    await error.waitFor();
    expect(await error.textContent()).toBe("the invite code is unknown, used up, expired or revoked");
    expect(new URL(page.url()).pathname).toBe("/register");
    await page.screenshot({
      path: join(OUTPUT_DIR, "ui-register-refused.png"),
      animations: "disabled",
      fullPage: true,
    });
    await context.close();

    const users = await fetch(`${stack.baseUrl}/api/admin/users`, {
      headers: { authorization: `Bearer ${stack.admin.token}` },
    });
    const names = ((await users.json()) as { users: { username: string }[] }).users.map((u) => u.username);
    expect(names.sort()).toEqual([stack.admin.username, CAROL].sort());
  });

  test("the admin deletes carol with her files: the Linux user and its home are gone", async () => {
    const home = lookupAccount(`oqto_${CAROL}`).home;
    expect(existsSync(home)).toBe(true);
    const { page } = admin;
    await page.goto(`${stack.baseUrl}/admin/users`);
    const row = page.locator(`[data-testid="user-row"][data-username="${CAROL}"]`);
    await row.getByTestId("user-menu").click();
    await page.getByTestId("user-action-delete-data").click();
    const dialog = page.getByTestId("confirm-dialog");
    expect(await dialog.textContent()).toContain("every workspace, file and chat history");
    await dialog.getByTestId("dialog-confirm").click();
    await row.waitFor({ state: "detached" });
    expect(() => lookupAccount(`oqto_${CAROL}`)).toThrow();
    expect(existsSync(home)).toBe(false);
  });
});

describe("single-user mode in the browser", () => {
  let single: Stack;

  beforeAll(async () => {
    single = await startStack({ noProvider: true });
  }, 60_000);

  afterAll(async () => {
    await single?.stop();
  });

  test("the login page offers no registration, /register says it needs multi-user mode, Invites say so too", async () => {
    const { context, page } = await newPage(browser, pageErrors);
    await page.goto(`${single.baseUrl}/register?code=ABCDE-ABCDE-ABCDE-ABCDE`);
    const unavailable = page.getByTestId("register-unavailable");
    await unavailable.waitFor();
    expect(await unavailable.textContent()).toContain("Registration needs multi-user mode");
    expect(await page.getByTestId("register-form").count()).toBe(0);
    await screenshots(page, "ui-register-single-user");

    await page.getByTestId("register-login-link").click();
    await page.waitForURL(/\/login$/);
    await page.getByTestId("login-form").waitFor();
    expect(await page.getByTestId("register-link").count()).toBe(0);
    await signIn(page, single);
    await page.getByTestId("admin-link").click();
    await page.getByTestId("admin-nav-invites").click();
    expect(await page.getByTestId("invites-single-user-note").textContent()).toContain(
      "Registration needs multi-user mode",
    );
    await context.close();
  });
});
