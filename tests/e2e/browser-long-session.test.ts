/**
 * A session longer than the UI's first page of history, in a real browser against the whole
 * product (serve, runner, real pi, the fake LLM): it opens with only the newest messages fetched,
 * older pages come as the reader scrolls up (the text being read stays put) until every message is
 * there, a search hit on the very first message fetches back to it, and edit-and-resend of an
 * older prompt forks at the right message. The runner's `get_messages` pages with `before_idx`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { HISTORY_PAGE } from "../../ui/src/state/chat/older-messages.ts";
import { launchChromium, newPage, signInState } from "../helpers/browser.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "long";
/** Two pages and a bit: the open fetches one, scrolling to the start two more. */
const TURNS = 160;
const MESSAGES = TURNS * 2;
const FIRST_PROMPT = "Remember quokka-lantern please";

let stack: Stack;
let browser: Browser;
let sessionId = "";
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;
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
  sessionId = await seedSession(((await created.json()) as { path: string }).path);
  signedInState = await signInState(browser, stack, pageErrors);
}, 120_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** TURNS prompt/answer pairs through the agent channel, the fake LLM answering at once. */
async function seedSession(cwd: string): Promise<string> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  try {
    const id = newSessionId();
    const created = await client.command(id, "session.create", { config: { harness: "pi", cwd } });
    expect(created.error ?? "").toBe("");
    for (let turn = 1; turn <= TURNS; turn++) {
      stack.fakeLlm.script([{ text: `Answer ${turn}.` }]);
      const from = client.frames.length;
      const message = turn === 1 ? FIRST_PROMPT : `Question ${turn}`;
      expect((await client.command(id, "prompt", { message })).success).toBe(true);
      await client.event(id, "agent.idle", from, 60_000);
      client.frames.splice(0);
    }
    return id;
  } finally {
    client.close();
  }
}

/** The `get_messages` commands the page sends, and how many messages each reply held. */
function watchHistoryFetches(page: Page) {
  const sent: Array<{ limit?: number; before_idx?: number }> = [];
  const received: number[] = [];
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { cmd?: string; limit?: number; before_idx?: number };
      if (frame.cmd === "get_messages") sent.push({ limit: frame.limit, before_idx: frame.before_idx });
    });
    socket.on("framereceived", ({ payload }) => {
      const frame = JSON.parse(String(payload)) as {
        data?: { messages?: unknown[]; message_count?: number };
      };
      if (Array.isArray(frame.data?.messages) && frame.data.message_count === MESSAGES)
        received.push(frame.data.messages.length);
    });
  });
  return { sent, received };
}

async function openSession(): Promise<{
  context: BrowserContext;
  page: Page;
  fetches: ReturnType<typeof watchHistoryFetches>;
}> {
  const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
  const fetches = watchHistoryFetches(page);
  await page.goto(`${stack.baseUrl}/w/${WORKSPACE}/s/${sessionId}`);
  await page.locator('[data-role="assistant"]', { hasText: `Answer ${TURNS}.` }).waitFor();
  return { context, page, fetches };
}

const renderedCount = (page: Page) => page.locator("[data-testid=chat-message]").count();
const firstPrompt = (page: Page) =>
  page.locator('[data-testid="chat-message"][data-role="user"]', { hasText: FIRST_PROMPT });

describe("a session longer than a page of history", () => {
  test("get_messages with before_idx returns the page before that idx", async () => {
    const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    try {
      const reply = await client.command(sessionId, "get_messages", { limit: 5, before_idx: 10 });
      const data = reply.data as { messages: Array<{ idx: number }>; message_count: number };
      expect(data.messages.map((m) => m.idx)).toEqual([5, 6, 7, 8, 9]);
      expect(data.message_count).toBe(MESSAGES);
      const start = await client.command(sessionId, "get_messages", { limit: 5, before_idx: 2 });
      expect((start.data as { messages: Array<{ idx: number }> }).messages.map((m) => m.idx)).toEqual([0, 1]);
    } finally {
      client.close();
    }
  }, 30_000);

  test("it opens with the newest page only; scrolling up fetches the older ones, the text read stays put", async () => {
    const { context, page, fetches } = await openSession();
    expect(fetches.sent).toEqual([{ limit: HISTORY_PAGE, before_idx: undefined }]);
    expect(fetches.received).toEqual([HISTORY_PAGE]);
    expect(await renderedCount(page)).toBe(40);
    const marker = page.getByTestId("earlier-messages");
    expect(await marker.getAttribute("data-hidden-count")).toBe(String(MESSAGES - 40));

    // To the start, a step at a time: at each the first message shown before it stays where it was.
    let shown = await renderedCount(page);
    for (let step = 0; step < 40 && (await marker.count()) > 0; step++) {
      const before = await page.evaluate(() => {
        const scroller = document.querySelector<HTMLElement>(".chat-scroll");
        const first = document.querySelector<HTMLElement>("[data-testid=chat-message]");
        if (!scroller || !first) throw new Error("no chat");
        for (const old of document.querySelectorAll<HTMLElement>("[data-anchor-probe]"))
          delete old.dataset.anchorProbe;
        first.dataset.anchorProbe = "1";
        scroller.scrollTop = 0;
        return first.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      });
      await page.waitForFunction(
        (count) => document.querySelectorAll("[data-testid=chat-message]").length > count,
        shown,
      );
      const after = await page.evaluate(() => {
        const scroller = document.querySelector<HTMLElement>(".chat-scroll");
        const probe = document.querySelector<HTMLElement>("[data-anchor-probe]");
        if (!scroller || !probe) throw new Error("anchor gone");
        return probe.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      });
      expect(Math.abs(after - before)).toBeLessThan(2);
      shown = await renderedCount(page);
    }
    expect(await marker.count()).toBe(0);
    expect(await renderedCount(page)).toBe(MESSAGES);
    await firstPrompt(page).waitFor();
    // Each older page was asked for once, before the first message held, and only it came.
    expect(fetches.sent).toEqual([
      { limit: HISTORY_PAGE, before_idx: undefined },
      { limit: HISTORY_PAGE, before_idx: MESSAGES - HISTORY_PAGE },
      { limit: HISTORY_PAGE, before_idx: MESSAGES - 2 * HISTORY_PAGE },
    ]);
    expect(fetches.received).toEqual([HISTORY_PAGE, HISTORY_PAGE, MESSAGES - 2 * HISTORY_PAGE]);
    // Every message once, in order.
    const prompts = await page
      .locator('[data-testid="chat-message"][data-role="user"] .bubble')
      .allTextContents();
    expect(prompts.map((text) => text.trim())).toEqual([
      FIRST_PROMPT,
      ...Array.from({ length: TURNS - 1 }, (_, i) => `Question ${i + 2}`),
    ]);
    await context.close();
  }, 120_000);

  test("a search hit on the very first message fetches back to it and shows it", async () => {
    const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
    const fetches = watchHistoryFetches(page);
    await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
    await page.getByTestId("history-search").fill("quokka");
    await page.locator(`[data-testid="search-hit"][data-session-id="${sessionId}"]`).first().click();
    const target = firstPrompt(page);
    await target.waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="chat-message"][data-focused="true"]') !== null,
    );
    const inView = await target.evaluate((element) => {
      const box = element.getBoundingClientRect();
      const scroller = document.querySelector(".chat-scroll")?.getBoundingClientRect();
      return scroller !== undefined && box.bottom > scroller.top && box.top < scroller.bottom;
    });
    expect(inView).toBe(true);
    expect(fetches.sent.map((sent) => sent.before_idx)).toEqual([
      undefined,
      MESSAGES - HISTORY_PAGE,
      MESSAGES - 2 * HISTORY_PAGE,
    ]);
    await context.close();
  }, 90_000);

  test("edit-and-resend of a prompt on the first page forks at that prompt, older pages not fetched", async () => {
    const { context, page, fetches } = await openSession();
    const fork = await editAndResend(page, `Question ${TURNS - 15}`);
    expect(fetches.sent.filter((sent) => sent.before_idx !== undefined)).toEqual([]);
    const conversation = await storedTexts(fork);
    expect(conversation).toHaveLength((TURNS - 15) * 2);
    expect(conversation.slice(-4)).toEqual([
      `Question ${TURNS - 16}`,
      `Answer ${TURNS - 16}.`,
      `Question ${TURNS - 15}, edited`,
      "The edited answer.",
    ]);
    await context.close();
  }, 120_000);

  test("edit-and-resend of a prompt from an older page forks at that prompt", async () => {
    const { context, page } = await openSession();
    // The search hit brings the older pages; the second prompt is then on the page.
    await page.getByTestId("history-search").fill("quokka");
    await page.locator(`[data-testid="search-hit"][data-session-id="${sessionId}"]`).first().click();
    await firstPrompt(page).waitFor();
    const fork = await editAndResend(page, "Question 2");
    expect(await storedTexts(fork)).toEqual([
      FIRST_PROMPT,
      "Answer 1.",
      "Question 2, edited",
      "The edited answer.",
    ]);
    await context.close();
  }, 120_000);
});

/** Edits prompt `text` to `<text>, edited` and resends it; resolves with the fork, once it answered. */
async function editAndResend(page: Page, text: string): Promise<string> {
  const prompt = page.locator('[data-testid="chat-message"][data-role="user"]', {
    hasText: new RegExp(`^\\s*${text}\\s*$`),
  });
  await prompt.scrollIntoViewIfNeeded();
  await prompt.hover();
  await prompt.getByTestId("message-edit").click();
  stack.fakeLlm.script([{ match: `${text}, edited`, text: "The edited answer." }]);
  await page.getByTestId("message-editor-input").fill(`${text}, edited`);
  await page.getByTestId("message-editor-send").click();
  await page.waitForURL((url) => url.pathname.includes("/s/") && !url.pathname.endsWith(sessionId));
  await page.locator('[data-role="assistant"]', { hasText: "The edited answer." }).waitFor();
  return decodeURIComponent(page.url().split("/s/")[1] ?? "");
}

/** The stored prompts and answers of a session as text, from the REST API. */
async function storedTexts(session: string): Promise<string[]> {
  const response = await fetch(`${stack.baseUrl}/api/sessions/${session}/messages`, {
    headers: { authorization: `Bearer ${stack.admin.token}` },
  });
  expect(response.status).toBe(200);
  const { messages } = (await response.json()) as {
    messages: Array<{ role: string; parts: Array<{ type: string; text?: string }> }>;
  };
  return messages
    .filter((m) => m.role === "user" || m.role === "assistant")
    .map((m) => m.parts.map((p) => p.text ?? "").join(""));
}
