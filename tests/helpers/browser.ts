/** Debian's Chromium driven by playwright-core, as every browser test launches it. */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from "playwright-core";

/** Screenshots land here (git-ignored). */
export const OUTPUT_DIR = resolve(import.meta.dir, "../../test-output");
/** How long a UI assertion waits. */
export const WAIT_MS = 30_000;
// Without the background-networking flags Chromium keeps dialing out on a closed network.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** Signs in as the stack's admin from the start page and waits for the workspace list. */
export async function signIn(
  page: Page,
  stack: { baseUrl: string; admin: { username: string; password: string } },
) {
  await page.goto(`${stack.baseUrl}/`);
  await page.waitForURL(/\/login$/);
  await page.getByTestId("login-username").fill(stack.admin.username);
  await page.getByTestId("login-password").fill(stack.admin.password);
  await page.getByTestId("login-submit").click();
  await page.getByRole("heading", { name: "Workspaces" }).waitFor();
}

/** What the page reports for each Content-Security-Policy violation in Oqto's own page. */
const CSP_VIOLATION = "CSP violation:";

/**
 * A fresh context and page in the size and colours the screenshots use, with the UI wait time;
 * uncaught page errors and every violation of the UI's Content-Security-Policy are pushed onto
 * `pageErrors` (tests expect it to stay empty), so each browser test also proves the UI works
 * under its policy. Frames of workspace files (previews) are not the UI: their policy blocks by design.
 */
export async function newPage(
  browser: Browser,
  pageErrors: string[],
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 820 },
    colorScheme: "light",
    ...options,
  });
  await context.addInitScript((prefix: string) => {
    if (window.top !== window) return;
    document.addEventListener("securitypolicyviolation", (event) =>
      console.error(`${prefix} ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`),
    );
  }, CSP_VIOLATION);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.text().startsWith(CSP_VIOLATION)) pageErrors.push(message.text());
  });
  return { context, page };
}

/**
 * Cookies of one sign-in as the stack's admin, for every test of a file to reuse (logins are
 * rate-limited): signs in on a page of its own (errors go to `pageErrors`) and closes it.
 */
export async function signInState(
  browser: Browser,
  stack: Parameters<typeof signIn>[1],
  pageErrors: string[],
): Promise<Awaited<ReturnType<BrowserContext["storageState"]>>> {
  const { context, page } = await newPage(browser, pageErrors);
  await signIn(page, stack);
  const state = await context.storageState();
  await context.close();
  return state;
}

/**
 * Picks `provider/model` in the chat header's model picker once it can be used (the session is idle and
 * the models are listed), and waits until the session runs on it.
 */
export async function pickModel(page: Page, value: string): Promise<void> {
  await page.locator('[data-testid="model-picker"]:not([disabled])').click();
  await page.locator(`[data-testid="model-option"][data-value="${value}"]`).click();
  await page.locator(`[data-testid="model-picker"][data-value="${value}"]`).waitFor();
}
