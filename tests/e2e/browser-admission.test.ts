/**
 * Admission in the browser (issue 14): with one generating session allowed and another session
 * holding the slot, a prompt sent from the chat shows "Queued — 1st in line" (the composer offers
 * Stop), the admin's Sessions page lists it in the queue, and once the slot frees the answer streams
 * as usual.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, signIn, WAIT_MS } from "../helpers/browser.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let mux: MuxClient;
let workspace: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startStack({ extraConfig: "[admission]\nmax_generating_sessions = 1\n" });
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "demo" }),
  });
  expect(created.status).toBe(201);
  workspace = ((await created.json()) as { path: string }).path;
  mux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  browser = await launchChromium();
  ({ context, page } = await newPage(browser, pageErrors));
  await signIn(page, stack);
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  mux?.close();
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

describe("admission queue in the UI", () => {
  test("a queued chat shows its position, the admin sees it, and the answer streams once admitted", async () => {
    stack.fakeLlm.script([
      { match: "blocker", text: ["holding the slot "], hang: true },
      { match: "waiting", text: ["Admitted ", "and ", "streaming ", "now."], delayMs: 150 },
    ]);
    // Another session takes the one slot.
    const blocker = newSessionId();
    expect(
      (await mux.command(blocker, "session.create", { config: { harness: "pi", cwd: workspace } })).success,
    ).toBe(true);
    const from = mux.frames.length;
    expect((await mux.command(blocker, "prompt", { message: "blocker" })).success).toBe(true);
    await mux.event(blocker, "agent.working", from);

    await page.goto(`${stack.baseUrl}/w/demo`);
    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor({ timeout: WAIT_MS });
    const sessionId = decodeURIComponent(page.url().split("/s/")[1] ?? "");

    const input = page.getByTestId("composer-input");
    await input.fill("waiting for my turn");
    await input.press("Enter");
    const queued = page.getByTestId("queued-indicator");
    await queued.waitFor({ timeout: WAIT_MS });
    expect(await queued.textContent()).toBe("Queued — 1st in line");
    expect(await page.getByTestId("session-state").getAttribute("data-state")).toBe("queued");
    // The composer stays usable: Stop would take the session out of the queue.
    await page.getByTestId("abort-button").waitFor();
    await page
      .locator('[data-testid="chat-message"][data-role="user"]')
      .getByText("waiting for my turn")
      .waitFor();

    // The admin's Sessions page shows the queue.
    const admin = await context.newPage();
    await admin.goto(`${stack.baseUrl}/admin/sessions`);
    const row = admin.locator(`[data-testid="admin-queue-row"][data-session-id="${sessionId}"]`);
    await row.waitFor({ timeout: WAIT_MS });
    expect(await row.getAttribute("data-position")).toBe("1");
    expect(await admin.getByTestId("admin-admission-summary").textContent()).toContain(
      "1 generating of 1 allowed at once · 1 waiting",
    );
    await admin.close();

    // The slot frees: the queued prompt starts and its answer streams into the same view.
    await mux.command(blocker, "abort");
    await queued.waitFor({ state: "detached", timeout: WAIT_MS });
    await page.getByTestId("working-indicator").waitFor({ timeout: WAIT_MS });
    await page.waitForFunction(
      () => {
        const nodes = document.querySelectorAll('[data-role="assistant"] .markdown');
        return (nodes[nodes.length - 1]?.textContent ?? "").includes("Admitted");
      },
      undefined,
      { timeout: WAIT_MS },
    );
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor({ timeout: WAIT_MS });
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"] .markdown').last();
    expect((await answer.textContent())?.trim()).toBe("Admitted and streaming now.");
  }, 120_000);
});
