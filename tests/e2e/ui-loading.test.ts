/**
 * The UI loads only what a page needs, compressed, in a real Chromium against the whole product:
 * the sign-in page stays under 200 KB over the wire and fetches neither the terminal (xterm) nor
 * the admin pages; opening the terminal and the admin area fetches their chunks then; a second
 * visit takes the hashed chunks from the browser's cache without asking the server. A long
 * session opens at its end with only its last messages rendered, renders older ones as the reader
 * scrolls up without moving the text being read, and a search hit far back is still scrolled to.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium, newPage, signIn } from "../helpers/browser.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** Text only xterm's code holds (the class of its input element). */
const XTERM_MARK = "xterm-helper-textarea";
/** Text only the admin pages' code holds (a tab label of AdminArea). */
const ADMIN_MARK = "Audit log";
const FIRST_LOAD_LIMIT = 200 * 1024;

let stack: Stack;
let browser: Browser;
let workspacePath = "";
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "demo" }),
  });
  expect(created.status).toBe(201);
  workspacePath = ((await created.json()) as { path: string }).path;
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Every script the page fetches from the server, with its body, as the page goes. */
function watchScripts(page: Page): Map<string, string> {
  const scripts = new Map<string, string>();
  page.on("response", async (response) => {
    if (response.request().resourceType() !== "script") return;
    scripts.set(new URL(response.url()).pathname, await response.text().catch(() => ""));
  });
  return scripts;
}

const holding = (scripts: Map<string, string>, mark: string) =>
  [...scripts].filter(([, body]) => body.includes(mark)).map(([path]) => path);

test("the sign-in page comes compressed, under 200 KB, without the terminal or admin code", async () => {
  const { context, page } = await newPage(browser, pageErrors);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  let wireBytes = 0;
  cdp.on("Network.loadingFinished", (event) => {
    wireBytes += event.encodedDataLength;
  });
  const encodings = new Map<string, string | undefined>();
  page.on("response", (response) => {
    const type = response.request().resourceType();
    if (type === "script" || type === "stylesheet" || type === "document")
      encodings.set(new URL(response.url()).pathname, response.headers()["content-encoding"]);
  });
  const scripts = watchScripts(page);

  await page.goto(`${stack.baseUrl}/login`);
  await page.getByTestId("login-form").waitFor();
  await page.waitForLoadState("networkidle");

  expect(scripts.size).toBeGreaterThan(0);
  // Chromium asks for br first; every file of the page comes that way.
  expect([...encodings.values()].every((encoding) => encoding === "br")).toBe(true);
  expect(encodings.size).toBeGreaterThanOrEqual(3);
  expect(wireBytes).toBeGreaterThan(10_000);
  expect(wireBytes).toBeLessThan(FIRST_LOAD_LIMIT);
  expect(holding(scripts, XTERM_MARK)).toEqual([]);
  expect(holding(scripts, ADMIN_MARK)).toEqual([]);
  await context.close();
}, 60_000);

test("opening the terminal fetches its chunk; the admin area fetches its own", async () => {
  const { context, page } = await newPage(browser, pageErrors);
  const scripts = watchScripts(page);
  await signIn(page, stack);
  await page.goto(`${stack.baseUrl}/w/demo`);
  await page.getByTestId("toggle-terminal").waitFor();
  await page.waitForLoadState("networkidle");
  expect(holding(scripts, XTERM_MARK)).toEqual([]);

  await page.getByTestId("toggle-terminal").click();
  // Open, or refused by a server without terminals: either way xterm was needed and fetched.
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="terminal-view"]')?.getAttribute("data-state");
    return state === "open" || state === "failed";
  });
  await page.waitForLoadState("networkidle");
  const xtermChunks = holding(scripts, XTERM_MARK);
  expect(xtermChunks.length).toBe(1);
  if ((await page.getByTestId("terminal-view").getAttribute("data-state")) === "open")
    await page.locator(`.${XTERM_MARK}`).waitFor({ state: "attached" });
  expect(holding(scripts, ADMIN_MARK)).toEqual([]);

  await page.goto(`${stack.baseUrl}/admin`);
  await page.getByRole("link", { name: ADMIN_MARK }).waitFor();
  expect(holding(scripts, ADMIN_MARK).length).toBe(1);
  await context.close();
}, 90_000);

test("a page whose chunk cannot be fetched says so, and loads on retry", async () => {
  const { context, page } = await newPage(browser, pageErrors);
  await signIn(page, stack);
  // As after an upgrade: the chunks this page would fetch next are gone from the server.
  const blocked = (route: { abort: () => Promise<void> }) => route.abort();
  await page.route("**/*.js", blocked);
  await page.getByTestId("account-link").click();
  const failure = page.getByTestId("lazy-load-error");
  await failure.waitFor();
  expect(await failure.textContent()).toContain("Could not load the account page");
  expect(await failure.getByRole("button", { name: "Reload the page" }).count()).toBe(1);
  await page.unroute("**/*.js", blocked);
  await failure.getByRole("button", { name: "Try again" }).click();
  await page.getByRole("heading", { name: "Account" }).waitFor();
  await context.close();
}, 60_000);

test("a second visit takes the hashed chunks from the cache and revalidates only the page", async () => {
  const { context, page } = await newPage(browser, pageErrors);
  await page.goto(`${stack.baseUrl}/login`);
  await page.getByTestId("login-form").waitFor();
  await page.waitForLoadState("networkidle");

  // A navigation to the page (not a reload, which revalidates everything): what a returning visitor does.
  await page.goto(`${stack.baseUrl}/login`);
  await page.getByTestId("login-form").waitFor();
  await page.waitForLoadState("networkidle");
  // The chunks are `immutable` and fresh for a year: the browser does not ask for them again
  // (transferSize 0: from its cache); the page itself is `no-cache`, so it is revalidated.
  const sizes = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((entry) => /\.(js|css)$/.test(entry.name))
      .map((entry) => (entry as PerformanceResourceTiming).transferSize),
  );
  expect(sizes.length).toBeGreaterThan(0);
  expect(sizes).toEqual(sizes.map(() => 0));
  const navigation = await page.evaluate(
    () => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).transferSize,
  );
  expect(navigation).toBeGreaterThan(0);
  await context.close();
}, 60_000);

/** A session of `turns` prompt/answer pairs made through the agent channel; the first prompt holds `firstWord`. */
async function seedSession(turns: number, firstWord: string): Promise<string> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  try {
    const id = newSessionId();
    const created = await client.command(id, "session.create", {
      config: { harness: "pi", cwd: workspacePath },
    });
    expect(created.error ?? "").toBe("");
    for (let turn = 1; turn <= turns; turn++) {
      stack.fakeLlm.script([
        { text: [`Answer ${turn}, in two lines:\n\n`, `line one of ${turn}, then line two.`] },
      ]);
      const from = client.frames.length;
      const message = turn === 1 ? `Remember ${firstWord} please` : `Question ${turn}`;
      expect((await client.command(id, "prompt", { message })).success).toBe(true);
      await client.event(id, "agent.idle", from, 60_000);
    }
    return id;
  } finally {
    client.close();
  }
}

const renderedCount = (page: Page) => page.locator("[data-testid=chat-message]").count();

test("a long session opens at its end with its last messages rendered, and renders back as it scrolls", async () => {
  const turns = 60;
  const sessionId = await seedSession(turns, "marmoset-lantern");
  const { context, page } = await newPage(browser, pageErrors);
  await signIn(page, stack);
  await page.goto(`${stack.baseUrl}/w/demo/s/${sessionId}`);
  const last = page.locator('[data-role="assistant"]', { hasText: `line one of ${turns}, then` });
  await last.waitFor();
  // The end of the conversation, in view; the older 80 messages are not in the page.
  expect(await renderedCount(page)).toBe(40);
  expect(await page.getByTestId("earlier-messages").getAttribute("data-hidden-count")).toBe(
    String(turns * 2 - 40),
  );
  expect(await last.isVisible()).toBe(true);
  expect(await page.locator(".jump-latest").count()).toBe(0);

  // Scrolled to the top of what is rendered: the step above keeps the first message where it was.
  const before = await page.evaluate(() => {
    const scroller = document.querySelector<HTMLElement>(".chat-scroll");
    const first = document.querySelector<HTMLElement>("[data-testid=chat-message]");
    if (!scroller || !first) throw new Error("no chat");
    scroller.scrollTop = 0;
    first.dataset.anchorProbe = "1";
    return first.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
  });
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=chat-message]").length > 40);
  const after = await page.evaluate(() => {
    const scroller = document.querySelector<HTMLElement>(".chat-scroll");
    const probe = document.querySelector<HTMLElement>("[data-anchor-probe]");
    if (!scroller || !probe) throw new Error("anchor gone");
    return probe.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
  });
  expect(Math.abs(after - before)).toBeLessThan(2);

  // On to the very start: every message renders, and the marker goes.
  for (let step = 0; step < 10 && (await page.getByTestId("earlier-messages").count()) > 0; step++) {
    const shown = await renderedCount(page);
    await page.evaluate(() => {
      const scroller = document.querySelector<HTMLElement>(".chat-scroll");
      if (scroller) scroller.scrollTop = 0;
    });
    await page.waitForFunction(
      (count) => document.querySelectorAll("[data-testid=chat-message]").length > count,
      shown,
    );
  }
  expect(await page.getByTestId("earlier-messages").count()).toBe(0);
  expect(await renderedCount(page)).toBe(turns * 2);
  await page
    .locator('[data-testid="chat-message"][data-role="user"]', { hasText: "Remember marmoset-lantern" })
    .waitFor();

  // A search hit on the first message, from a fresh page: rendered back to it and scrolled there.
  const fresh = await context.newPage();
  await fresh.goto(`${stack.baseUrl}/w/demo`);
  await fresh.getByTestId("history-search").fill("marmoset");
  const hit = fresh.locator(`[data-testid="search-hit"][data-session-id="${sessionId}"]`).first();
  await hit.click();
  const target = fresh.locator('[data-testid="chat-message"][data-role="user"]', {
    hasText: "Remember marmoset-lantern please",
  });
  await target.waitFor();
  await fresh.waitForFunction(
    () => document.querySelector('[data-testid="chat-message"][data-focused="true"]') !== null,
  );
  const inView = await target.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const scroller = document.querySelector(".chat-scroll")?.getBoundingClientRect();
    return scroller !== undefined && box.bottom > scroller.top && box.top < scroller.bottom;
  });
  expect(inView).toBe(true);
  await context.close();
}, 180_000);
