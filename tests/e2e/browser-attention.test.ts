/**
 * Attention in a real browser against the whole product: while the tab is hidden, a finished turn
 * marks the title and the icon, a question from the agent (a real pi extension's confirm dialog)
 * marks them differently, seeing the tab restores both, and the opt-in desktop notification fires
 * once per turn with plain, truncated text and brings the session back when clicked.
 *
 * Hidden is emulated: `document.visibilityState` is overridden and `visibilitychange` dispatched.
 * `Notification` is wrapped by a recording spy (the context grants the permission).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, signInState } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "attention";

let stack: Stack;
let browser: Browser;
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

/** Asks before every bash command: the agent waits for the user (agent.input_needed). */
const GATE_EXTENSION = `export default function (pi) {
  pi.on("tool_call", async (event, ctx) => {
    if (event.toolName !== "bash") return undefined;
    const ok = await ctx.ui.confirm("Run bash?", String(event.input.command));
    return ok ? undefined : { block: true, reason: "denied by the user" };
  });
}
`;

beforeAll(async () => {
  // Extensions are loaded (the default test flags turn them off).
  stack = await startStack({ piExtraArgs: ["--no-context-files", "--no-themes"] });
  browser = await launchChromium();
  signedInState = await signInState(browser, stack, pageErrors);
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: WORKSPACE }),
  });
  expect(created.status).toBe(201);
  const workspace = join(stack.workspaceRoot, WORKSPACE);
  mkdirSync(join(workspace, ".pi/extensions"), { recursive: true });
  writeFileSync(join(workspace, ".pi/extensions/gate.ts"), GATE_EXTENSION);
  stack.own(join(workspace, ".pi"));
}, 90_000);

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

interface RecordedNotification {
  title: string;
  body: string;
  tag: string;
  closed: boolean;
}

declare global {
  interface Window {
    shownNotifications: Array<RecordedNotification & { onclick: (() => void) | null }>;
  }
}

/** Records every notification the page creates instead of showing it; permission stays the browser's. */
function installNotificationSpy(): void {
  const Real = window.Notification;
  window.shownNotifications = [];
  class SpyNotification {
    static get permission(): NotificationPermission {
      return Real.permission;
    }
    static requestPermission(): Promise<NotificationPermission> {
      return Real.requestPermission();
    }
    onclick: (() => void) | null = null;
    closed = false;
    readonly body: string;
    readonly tag: string;
    constructor(
      readonly title: string,
      options?: NotificationOptions,
    ) {
      this.body = options?.body ?? "";
      this.tag = options?.tag ?? "";
      window.shownNotifications.push(this);
    }
    close(): void {
      this.closed = true;
    }
  }
  Object.defineProperty(window, "Notification", { value: SpyNotification, configurable: true });
}

async function openSession(): Promise<{ context: BrowserContext; page: Page; sessionId: string }> {
  const { context, page } = await newPage(browser, pageErrors, {
    storageState: signedInState,
    permissions: ["notifications"],
  });
  await context.addInitScript(installNotificationSpy);
  await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
  await page.getByTestId("new-session").first().click();
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await idle(page);
  return { context, page, sessionId: decodeURIComponent(page.url().split("/s/")[1] ?? "") };
}

const idle = (page: Page) => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

function setVisibility(page: Page, state: "hidden" | "visible"): Promise<void> {
  return page.evaluate((visibility) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => visibility });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

async function send(page: Page, prompt: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(prompt);
  await input.press("Enter");
}

const title = (page: Page) => page.evaluate(() => document.title);
const favicon = (page: Page) =>
  page.evaluate(() => document.querySelector('link[rel~="icon"]')?.getAttribute("href") ?? "");
const notifications = (page: Page): Promise<RecordedNotification[]> =>
  page.evaluate(() =>
    window.shownNotifications.map(({ title, body, tag, closed }) => ({ title, body, tag, closed })),
  );

describe("attention", () => {
  test("a turn that ends while the tab is hidden marks title and icon; seeing the tab restores them", async () => {
    const { context, page } = await openSession();
    const plainTitle = await title(page);
    const plainIcon = await favicon(page);
    expect(plainIcon).toStartWith("data:image/svg+xml,");

    // Visible: a finished turn leaves the tab alone.
    stack.fakeLlm.script([{ match: "while you watch", text: "Seen it." }]);
    await send(page, "while you watch");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "Seen it." }).waitFor();
    await idle(page);
    expect(await title(page)).toBe(plainTitle);

    await setVisibility(page, "hidden");
    stack.fakeLlm.script([{ match: "while you are away", text: "Finished the work.", delayMs: 300 }]);
    await send(page, "while you are away");
    await page.waitForFunction((plain) => document.title === `● ${plain}`, plainTitle);
    const doneIcon = await favicon(page);
    expect(doneIcon).not.toBe(plainIcon);
    expect(decodeURIComponent(doneIcon)).toContain("<circle");
    expect(decodeURIComponent(doneIcon)).toContain("#16a34a");
    // Notifications were not turned on: none was shown.
    expect(await notifications(page)).toEqual([]);

    await setVisibility(page, "visible");
    expect(await title(page)).toBe(plainTitle);
    expect(await favicon(page)).toBe(plainIcon);
    await context.close();
  }, 90_000);

  test("a question from the agent while hidden gives another mark; answering it ends the turn", async () => {
    const { context, page } = await openSession();
    const plainTitle = await title(page);
    const plainIcon = await favicon(page);
    await setVisibility(page, "hidden");
    stack.fakeLlm.script([
      { match: "run the gated command", toolCalls: [{ name: "bash", arguments: { command: "echo gated" } }] },
      { text: "The command ran." },
    ]);
    await send(page, "run the gated command");
    await page.waitForFunction((plain) => document.title === `? ${plain}`, plainTitle);
    const inputIcon = decodeURIComponent(await favicon(page));
    expect(inputIcon).toContain("#d97706");
    expect(inputIcon).not.toContain("#16a34a");

    await setVisibility(page, "visible");
    expect(await title(page)).toBe(plainTitle);
    expect(await favicon(page)).toBe(plainIcon);
    await page.getByTestId("input-dialog").getByRole("button", { name: "Yes" }).click();
    await page.locator('[data-role="assistant"] .markdown', { hasText: "The command ran." }).waitFor();
    await idle(page);
    // Visible when it ended: no mark.
    expect(await title(page)).toBe(plainTitle);
    await context.close();
  }, 90_000);

  test("opt-in desktop notifications: once per turn while hidden, plain truncated text, a click brings the session back", async () => {
    const { context, page, sessionId } = await openSession();
    const toggle = page.getByTestId("notification-toggle");
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await toggle.click();
    await page.locator('[data-testid="notification-toggle"][aria-pressed="true"]').waitFor();
    expect(await page.evaluate(() => localStorage.getItem("oqto.notifications"))).toBe("on");

    // Visible: no notification.
    stack.fakeLlm.script([{ match: "first, in view", text: "In view." }]);
    await send(page, "first, in view");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "In view." }).waitFor();
    await idle(page);
    expect(await notifications(page)).toEqual([]);

    await setVisibility(page, "hidden");
    const answer = `## Report\n\n**Build** passed <b>in *CI*</b>\n\n\`\`\`sh\nmake\n\`\`\`\n\n${"and more words ".repeat(30)}`;
    stack.fakeLlm.script([{ match: "build it", text: answer, delayMs: 300 }]);
    await send(page, "build it");
    await page.waitForFunction(() => window.shownNotifications.length > 0);
    await idle(page);
    const shown = await notifications(page);
    expect(shown).toHaveLength(1);
    const [note] = shown;
    expect(note?.title).toStartWith("Agent finished · ");
    expect(note?.tag).toBe(`oqto-${sessionId}`);
    // Plain text: the markdown's marks are gone, the HTML is shown as characters.
    expect(note?.body).toStartWith("Report Build passed <b>in CI</b> make and more words");
    expect(note?.body.length).toBe(160);
    expect(note?.body).toEndWith("…");

    // Clicking it from elsewhere in the app brings this session back and closes it.
    await page.evaluate((workspace) => {
      history.pushState(null, "", `/w/${workspace}`);
      dispatchEvent(new PopStateEvent("popstate"));
    }, WORKSPACE);
    await page.waitForURL((url) => !url.pathname.includes("/s/"));
    await page.evaluate(() => window.shownNotifications[0]?.onclick?.());
    await page.waitForURL((url) => url.pathname.endsWith(`/s/${sessionId}`));
    expect((await notifications(page))[0]?.closed).toBe(true);
    await setVisibility(page, "visible");

    // Turned off: hidden turns mark the tab but notify nobody.
    await toggle.click();
    await page.locator('[data-testid="notification-toggle"][aria-pressed="false"]').waitFor();
    await setVisibility(page, "hidden");
    stack.fakeLlm.script([{ match: "quietly", text: "Quiet answer." }]);
    await send(page, "quietly");
    await page.waitForFunction(() => document.title.startsWith("● "));
    expect(await notifications(page)).toHaveLength(1);
    await context.close();
  }, 120_000);
});
