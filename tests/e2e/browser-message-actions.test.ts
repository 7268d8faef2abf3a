/**
 * Message actions in a real browser against the whole product (serve, runner, real pi, the fake
 * LLM): copy a message's markdown, edit a prompt and resend it (a fork), regenerate the last answer
 * (a fork at the last prompt) and copy a tool call's output. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signInState } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "actions";
const CLIPBOARD = { permissions: ["clipboard-read", "clipboard-write"] };

let stack: Stack;
let browser: Browser;
/** Uncaught exceptions in the page: any one fails the test that caused it. */
const pageErrors: string[] = [];
/** Cookies of one sign-in, reused by every test: logins are rate-limited. */
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  signedInState = await signInState(browser, stack, pageErrors);
  expect((await api("POST", "/api/workspaces", { name: WORKSPACE })).status).toBe(201);
}, 90_000);

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.admin.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface StoredMessage {
  id: string;
  role: string;
  parts: Array<{ type: string; text?: string }>;
}

/** The stored conversation as role and text pairs, from the REST API (history, not the page). */
async function storedConversation(sessionId: string): Promise<Array<[string, string]>> {
  const response = await api("GET", `/api/sessions/${sessionId}/messages`);
  expect(response.status).toBe(200);
  const { messages } = (await response.json()) as { messages: StoredMessage[] };
  return messages
    .filter((m) => m.role === "user" || m.role === "assistant")
    .map((m) => [
      m.role,
      m.parts
        .filter((p) => p.type === "text")
        .map((p) => p.text)
        .join(""),
    ]);
}

async function openWorkspace(
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, pageErrors, {
    viewport: { width: 1280, height: 860 },
    storageState: signedInState,
    ...options,
  });
  await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
  return { context, page };
}

async function newSession(page: Page): Promise<string> {
  await page.getByTestId("new-session").first().click();
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await idle(page);
  return sessionIdOf(page);
}

function sessionIdOf(page: Page): string {
  return decodeURIComponent(page.url().split("/s/")[1] ?? "");
}

const idle = (page: Page) => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

/** Sends a prompt and waits until the turn is over and its answer is on screen. */
async function converse(page: Page, prompt: string, answer: string): Promise<void> {
  stack.fakeLlm.script([{ match: prompt, text: answer }]);
  const input = page.getByTestId("composer-input");
  await input.fill(prompt);
  await input.press("Enter");
  await answerShown(page, answer);
  await idle(page);
}

const answerShown = (page: Page, answer: string) =>
  page.locator('[data-role="assistant"] .markdown', { hasText: answer.slice(0, 40) }).waitFor();

async function texts(page: Page, role: "user" | "assistant"): Promise<string[]> {
  const selector =
    role === "user"
      ? '[data-testid="chat-message"][data-role="user"] .bubble'
      : '[data-role="assistant"] .markdown';
  return (await page.locator(selector).allTextContents()).map((t) => t.trim());
}

const userMessage = (page: Page, text: string): Locator =>
  page.locator('[data-testid="chat-message"][data-role="user"]', { hasText: text });
const answerMessage = (page: Page, text: string): Locator =>
  page.locator('[data-testid="chat-message"][data-role="assistant"]', { hasText: text });

const readClipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

/** Waits until the page shows a session other than `original` and returns its id. */
async function switchedAwayFrom(page: Page, original: string): Promise<string> {
  await page.waitForURL((url) => url.pathname.includes("/s/") && !url.pathname.endsWith(original));
  return sessionIdOf(page);
}

describe("message actions", () => {
  test("copy puts a message's exact markdown on the clipboard and says so", async () => {
    const { context, page } = await openWorkspace(CLIPBOARD);
    await newSession(page);
    const prompt = "Format  this:\n  *keep* the spacing";
    const answer = "## Result\n\n**Bold** and `code`, then a list:\n\n- one\n- two <b>not html</b>";
    stack.fakeLlm.script([{ match: "Format", text: answer }]);
    const input = page.getByTestId("composer-input");
    await input.fill(prompt);
    await input.press("Enter");
    await answerShown(page, "Result");
    await idle(page);

    const reply = answerMessage(page, "Result");
    await reply.hover();
    await reply.getByTestId("message-copy").click();
    expect(await readClipboard(page)).toBe(answer);
    await reply.getByTestId("message-copy-status").filter({ hasText: "Copied" }).waitFor();
    // The rendered answer is not what was copied: the markdown's marks are gone from its text.
    expect(await reply.locator(".markdown").textContent()).not.toContain("**Bold**");

    const question = userMessage(page, "Format");
    await question.hover();
    await question.getByTestId("message-copy").click();
    expect(await readClipboard(page)).toBe(prompt);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-message-actions.png"), animations: "disabled" });
    await context.close();
  }, 90_000);

  test("edit-and-resend forks at the prompt: the fork holds the edited prompt and the new answer, the original is unchanged", async () => {
    const { context, page } = await openWorkspace();
    const original = await newSession(page);
    await converse(page, "first question", "first answer");
    await converse(page, "second question", "second answer");
    const before = await storedConversation(original);
    expect(before).toEqual([
      ["user", "first question"],
      ["assistant", "first answer"],
      ["user", "second question"],
      ["assistant", "second answer"],
    ]);

    const second = userMessage(page, "second question");
    await second.hover();
    await second.getByTestId("message-edit").click();
    const editor = page.getByTestId("message-editor-input");
    expect(await editor.inputValue()).toBe("second question");
    // Escape leaves the message as it was.
    await editor.press("Escape");
    await page.getByTestId("message-editor").waitFor({ state: "detached" });
    await second.hover();
    await second.getByTestId("message-edit").click();
    stack.fakeLlm.script([{ match: "second question, edited", text: "the edited answer" }]);
    await editor.fill("second question, edited");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-message-edit.png"), animations: "disabled" });
    await page.getByTestId("message-editor-send").click();

    const fork = await switchedAwayFrom(page, original);
    await answerShown(page, "the edited answer");
    await idle(page);
    expect(await texts(page, "user")).toEqual(["first question", "second question, edited"]);
    expect(await texts(page, "assistant")).toEqual(["first answer", "the edited answer"]);
    // The edited text was sent, not left in the composer.
    expect(await page.getByTestId("composer-input").inputValue()).toBe("");

    expect(await storedConversation(fork)).toEqual([
      ["user", "first question"],
      ["assistant", "first answer"],
      ["user", "second question, edited"],
      ["assistant", "the edited answer"],
    ]);
    expect(await storedConversation(original)).toEqual(before);
    const summary = (await (await api("GET", `/api/sessions/${fork}`)).json()) as {
      parent_session_id?: string;
    };
    expect(summary.parent_session_id).toBe(original);

    // After a reload the fork still shows it, from history.
    await page.reload();
    await answerShown(page, "the edited answer");
    expect(await texts(page, "user")).toEqual(["first question", "second question, edited"]);
    await context.close();
  }, 120_000);

  test("regenerate asks the LLM again in a fork at the last prompt; the new answer replaces the old one there", async () => {
    const { context, page } = await openWorkspace();
    const original = await newSession(page);
    await converse(page, "an opening line", "opening answer");
    await converse(page, "tell me a joke", "the first joke");
    // Only the last answer offers it.
    expect(await page.getByTestId("message-regenerate").count()).toBe(1);
    expect(await answerMessage(page, "opening answer").getByTestId("message-regenerate").count()).toBe(0);

    const asked = stack.fakeLlm.requests().length;
    stack.fakeLlm.script([{ match: "tell me a joke", text: "the second joke" }]);
    const last = answerMessage(page, "the first joke");
    await last.hover();
    await last.getByTestId("message-regenerate").click();
    const fork = await switchedAwayFrom(page, original);
    await answerShown(page, "the second joke");
    await idle(page);

    // The fake LLM was asked once more, with the same prompt and the history before it.
    const requests = stack.fakeLlm.requests().slice(asked) as Array<{
      messages: Array<{ role: string; content: unknown }>;
    }>;
    expect(requests).toHaveLength(1);
    const sent = JSON.stringify(requests[0]?.messages);
    expect(sent).toContain("tell me a joke");
    expect(sent).toContain("opening answer");
    expect(sent).not.toContain("the first joke");

    await page.reload();
    await answerShown(page, "the second joke");
    expect(await texts(page, "assistant")).toEqual(["opening answer", "the second joke"]);
    expect(await storedConversation(fork)).toEqual([
      ["user", "an opening line"],
      ["assistant", "opening answer"],
      ["user", "tell me a joke"],
      ["assistant", "the second joke"],
    ]);
    expect((await storedConversation(original)).at(-1)).toEqual(["assistant", "the first joke"]);
    await context.close();
  }, 120_000);

  test("a tool call's output has a copy button that copies it exactly", async () => {
    const { context, page } = await openWorkspace(CLIPBOARD);
    await newSession(page);
    stack.fakeLlm.script([
      {
        match: "print two lines",
        toolCalls: [{ name: "bash", arguments: { command: "printf 'alpha <b>\\n  beta'" } }],
      },
      { text: "Printed them." },
    ]);
    const input = page.getByTestId("composer-input");
    await input.fill("print two lines");
    await input.press("Enter");
    await answerShown(page, "Printed them.");
    await idle(page);

    const card = page.getByTestId("tool-card").first();
    await card.locator(".tool-head").click();
    const output = card.getByTestId("tool-output");
    await output.waitFor();
    await card.getByTestId("tool-output-copy").click();
    const copied = await readClipboard(page);
    expect(copied).toBe("alpha <b>\n  beta");
    expect(copied).toBe((await output.textContent()) ?? "");
    await card.getByTestId("tool-output-copy-status").filter({ hasText: "Copied" }).waitFor();
    await context.close();
  }, 90_000);

  test("on a 390 px touch screen the actions are shown without hover and work by tap", async () => {
    const { context, page } = await openWorkspace({
      ...CLIPBOARD,
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    });
    // The session list is a drawer here.
    await page.getByTestId("sessions-toggle").tap();
    await page.getByTestId("new-session").tap();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    await idle(page);
    await converse(page, "a phone question", "a phone answer");
    const reply = answerMessage(page, "a phone answer");
    const row = reply.getByTestId("message-actions");
    expect(await row.evaluate((element) => getComputedStyle(element).opacity)).toBe("1");
    await reply.getByTestId("message-copy").tap();
    expect(await readClipboard(page)).toBe("a phone answer");
    const button = await reply.getByTestId("message-copy").boundingBox();
    expect(button?.width ?? 0).toBeGreaterThanOrEqual(32);
    await userMessage(page, "a phone question").getByTestId("message-edit").tap();
    await page.getByTestId("message-editor-input").waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-message-actions-phone.png"), animations: "disabled" });
    await context.close();
  }, 90_000);
});
