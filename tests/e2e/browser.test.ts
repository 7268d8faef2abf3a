/**
 * The web UI in a real browser (Chromium via playwright-core) against the whole product: oqto serve,
 * its runner, real pi processes and the scripted fake LLM. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, pickModel, signIn } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
/** Cookies of one sign-in, reused by most tests: logins are rate-limited (10 a minute per IP). */
/** Uncaught exceptions in the page: any one fails the test that caused it. */
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  const { context, page } = await openPage();
  await signIn(page, stack);
  signedInState = await context.storageState();
  await context.close();
  // Most tests work in "demo"; the first chat test creates its own workspace through the UI.
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "demo" }),
  });
  expect(created.status).toBe(201);
}, 90_000);

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A fresh browser profile (no cookies unless `signedIn`); uncaught page errors fail the test. */
async function openPage(signedIn = false): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(
    browser,
    pageErrors,
    signedIn ? { storageState: signedInState } : {},
  );
  if (signedIn) {
    await page.goto(`${stack.baseUrl}/`);
    await page.getByRole("heading", { name: "Workspaces" }).waitFor();
  }
  return { context, page };
}

async function createWorkspace(page: Page, name: string): Promise<void> {
  await page.getByTestId("workspace-name-input").fill(name);
  await page.getByTestId("workspace-create").click();
  await page.waitForURL(new RegExp(`/w/${name}$`));
}

async function newSession(page: Page): Promise<string> {
  await page.getByTestId("new-session").first().click();
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
  return decodeURIComponent(page.url().split("/s/")[1] ?? "");
}

async function send(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

const idle = (page: Page) => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

describe("sign-in", () => {
  test("a wrong password shows the server's error and keeps the user on /login", async () => {
    const { context, page } = await openPage();
    await page.goto(`${stack.baseUrl}/admin`);
    await page.waitForURL(/\/login$/);
    await page.getByTestId("login-username").fill(stack.admin.username);
    await page.getByTestId("login-password").fill("not-the-password");
    await page.getByTestId("login-submit").click();
    const error = page.getByTestId("form-error");
    await error.waitFor();
    expect((await error.textContent())?.toLowerCase()).toContain("invalid");
    expect(page.url()).toEndWith("/login");
    await context.close();
  });

  test("signing in returns to the page that needed it; the token is only in an HttpOnly cookie; sign-out ends it", async () => {
    // Its own account: signing out ends every token of the user, and the other tests keep the admin's.
    const password = "quiet-meadow-lantern-19";
    await stack.addUser("signer", password);
    const { context, page } = await openPage();
    await page.goto(`${stack.baseUrl}/admin`);
    await page.waitForURL(/\/login$/);
    await page.getByTestId("login-username").fill("signer");
    await page.getByTestId("login-password").fill(password);
    await page.getByTestId("login-submit").click();
    await page.waitForURL(/\/admin$/);
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(storage).not.toContain("eyJ");
    expect(await page.evaluate(() => document.cookie)).not.toContain("auth_token");
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === "auth_token")?.httpOnly).toBe(true);

    const token = cookies.find((c) => c.name === "auth_token")?.value ?? "";
    await page.getByTestId("logout").click();
    await page.waitForURL(/\/login$/);
    await page.getByTestId("login-form").waitFor();
    expect((await context.cookies()).some((c) => c.name === "auth_token" && c.value !== "")).toBe(false);
    // The token itself is dead too, not just forgotten by this browser.
    const after = await fetch(`${stack.baseUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
    await context.close();
  });
});

describe("chat", () => {
  test("streams markdown into one DOM node, renders a write tool card and survives a reload", async () => {
    const { context, page } = await openPage(true);
    await createWorkspace(page, "project");
    await newSession(page);

    stack.fakeLlm.script([
      {
        toolCalls: [
          { name: "write", arguments: { path: "notes/hello.md", content: "# Hello\n\nfrom the agent\n" } },
        ],
      },
      {
        text: ["I wrote ", "**notes/hello.md** ", "with a heading", " and one line.\n\n", "- done"],
        delayMs: 250,
      },
    ]);
    await send(page, "Please write notes/hello.md");

    const userMessage = page.locator('[data-testid="chat-message"][data-role="user"]');
    await userMessage.getByText("Please write notes/hello.md").waitFor();

    const card = page.locator('[data-testid="tool-card"][data-tool="write"]');
    await card.waitFor();
    await page.locator('[data-testid="tool-card"][data-status="success"]').waitFor();
    expect(await card.locator(".tool-summary").textContent()).toBe("notes/hello.md");

    // Mid-stream: part of the answer is on screen, the rest is still coming.
    const answer = page.locator('[data-testid="chat-message"][data-role="assistant"] .markdown').last();
    await page.waitForFunction(() => {
      const nodes = document.querySelectorAll('[data-role="assistant"] .markdown');
      const text = nodes[nodes.length - 1]?.textContent ?? "";
      return text.includes("I wrote") && !text.includes("done");
    });
    const streamingNode = await answer.elementHandle();
    await page.getByTestId("working-indicator").waitFor();

    await page.waitForFunction(() => {
      const nodes = document.querySelectorAll('[data-role="assistant"] .markdown');
      return (nodes[nodes.length - 1]?.textContent ?? "").includes("done");
    });
    await idle(page);
    // The node that showed the first delta shows the last one: deltas patch it, nothing re-mounts.
    expect(await streamingNode?.evaluate((node) => node.isConnected)).toBe(true);
    expect(await answer.innerHTML()).toContain("<strong>notes/hello.md</strong>");
    expect(await answer.locator("li").textContent()).toBe("done");
    expect(readFileSync(join(stack.workspaceRoot, "project/notes/hello.md"), "utf8")).toBe(
      "# Hello\n\nfrom the agent\n",
    );

    await card.locator(".tool-head").click();
    await card.getByTestId("tool-output").waitFor();
    expect(await card.locator("pre").first().textContent()).toContain('"path": "notes/hello.md"');

    await page.screenshot({ path: join(OUTPUT_DIR, "ui-chat.png"), animations: "disabled" });
    await page.getByTestId("theme-toggle").click();
    await page.getByTestId("theme-toggle").click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-chat-dark.png"), animations: "disabled" });

    // After a reload the conversation comes back from history (get_state + get_messages).
    await page.reload();
    await page.locator('[data-testid="tool-card"][data-status="success"][data-tool="write"]').waitFor();
    await page.locator('[data-role="assistant"] .markdown strong', { hasText: "notes/hello.md" }).waitFor();
    expect(await page.locator('[data-testid="chat-message"][data-role="user"]').count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await context.close();
  }, 90_000);

  test("while the agent works, Enter steers and Alt+Enter queues a follow-up; Stop aborts", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
    await newSession(page);

    stack.fakeLlm.script([
      { text: Array.from({ length: 60 }, (_, i) => `word${i} `), delayMs: 60 },
      { match: "steer left", text: "steered left" },
      { match: "then rest", text: "resting now" },
    ]);
    await send(page, "start a long story");
    await page.getByTestId("abort-button").waitFor();
    await page.getByTestId("composer-input").fill("steer left");
    await page.getByTestId("composer-input").press("Enter");
    await page.getByTestId("composer-input").fill("then rest");
    await page.getByTestId("composer-input").press("Alt+Enter");
    await page
      .locator('[data-testid="queue-item"][data-kind="follow_up"]', { hasText: "then rest" })
      .waitFor();

    await page.locator('[data-role="assistant"] .markdown', { hasText: "resting now" }).waitFor();
    await idle(page);
    const users = await page.locator('[data-testid="chat-message"][data-role="user"]').allTextContents();
    expect(users).toEqual(["start a long story", "steer left", "then rest"]);
    expect(await page.getByTestId("queue").count()).toBe(0);

    stack.fakeLlm.script([{ text: Array.from({ length: 400 }, (_, i) => `w${i} `), delayMs: 40 }]);
    await send(page, "talk forever");
    await page.getByTestId("abort-button").click();
    await idle(page);
    await page.getByText("Stopped.").waitFor();
    expect(await page.getByTestId("abort-button").count()).toBe(0);
    await context.close();
  }, 90_000);

  test("the model picker lists the provider's models and switches the session's model", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
    await newSession(page);
    await page.locator('[data-testid="model-picker"]:not([disabled])').click();
    await page.getByTestId("model-option").nth(1).waitFor();
    expect(await page.locator('[data-testid="model-menu"] [role="group"]').getAttribute("aria-label")).toBe(
      "fake",
    );
    expect(
      await page.getByTestId("model-option").evaluateAll((nodes) => nodes.map((n) => n.dataset.value)),
    ).toEqual(["fake/fake-model", "fake/fake-model-2"]);
    await page.keyboard.press("Escape");
    await page.getByTestId("model-menu").waitFor({ state: "detached" });
    await pickModel(page, "fake/fake-model-2");
    stack.fakeLlm.reset();
    stack.fakeLlm.script([{ text: "switched" }]);
    await send(page, "which model?");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "switched" }).waitFor();
    const requests = stack.fakeLlm.requests() as Array<{ model?: string }>;
    expect(requests.at(-1)?.model).toBe("fake-model-2");
    await context.close();
  }, 60_000);

  test("an LLM failure is shown as a visible error", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
    await newSession(page);
    stack.fakeLlm.script([{ status: 500, errorBody: { error: { message: "upstream exploded" } } }]);
    await send(page, "fail please");
    const alert = page.locator('[data-testid="chat-alert"][data-level="error"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain("500");
    await idle(page);
    await context.close();
  }, 60_000);

  test("an answer's images from another origin load only when the user asks, in a tab of their own", async () => {
    // Another origin on this machine that counts what reaches it (an exfiltration endpoint).
    const hits: { path: string; referer: string | null }[] = [];
    const pixel = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
      "base64",
    );
    const outside = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        const url = new URL(req.url);
        if (url.pathname !== "/favicon.ico")
          hits.push({ path: url.pathname + url.search, referer: req.headers.get("referer") });
        return new Response(pixel, { headers: { "content-type": "image/png" } });
      },
    });
    try {
      const base = `http://127.0.0.1:${outside.port}`;
      const { context, page } = await openPage(true);
      await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
      await newSession(page);
      stack.fakeLlm.script([
        {
          text: [
            `Here: ![chart](${base}/chart.png?secret=s3cr3t) `,
            `<img srcset="${base}/srcset.png 1x"> <span style="background:url(${base}/style.png)">styled</span> `,
            `<video poster="${base}/poster.png"></video> done`,
          ],
        },
      ]);
      await send(page, "show me the chart");
      const answer = page.locator('[data-role="assistant"] .markdown', { hasText: "done" });
      await answer.waitFor();
      await idle(page);
      const link = answer.getByTestId("remote-image");
      expect(await link.textContent()).toBe(`Open image “chart” from 127.0.0.1:${outside.port}`);
      expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
      // Even markup that slipped past the sanitizer could not load it: the page's policy forbids it.
      await page.evaluate((url) => {
        const image = new Image();
        image.src = url;
        document.body.append(image);
      }, `${base}/beacon.png`);
      await Bun.sleep(300);
      expect(hits).toEqual([]);
      const violations = pageErrors.splice(0);
      expect(violations).toEqual([expect.stringContaining(`img-src blocked ${base}/beacon.png`)]);

      const [tab] = await Promise.all([context.waitForEvent("page"), link.click()]);
      await tab.waitForLoadState();
      expect(tab.url()).toBe(`${base}/chart.png?secret=s3cr3t`);
      expect(await tab.evaluate(() => window.opener)).toBeNull();
      expect(hits).toEqual([{ path: "/chart.png?secret=s3cr3t", referer: null }]);
      await context.close();
    } finally {
      await outside.stop(true);
    }
  }, 60_000);

  test("the session list shows the workspace's sessions, newest first", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
    const older = await newSession(page);
    const newest = await newSession(page);
    const items = page.getByTestId("session-item");
    await page.locator(`[data-testid="session-item"][data-session-id="${older}"]`).waitFor();
    const order = await items.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-session-id")));
    expect(order[0]).toBe(newest);
    expect(order.indexOf(older)).toBeGreaterThan(0);
    expect(await items.first().getAttribute("aria-current")).toBe("page");
    // The optimistic row of a new session is replaced by the listed one, never shown twice.
    expect(order.length).toBe(new Set(order).size);

    // Narrow screens: the list is a drawer behind the menu button.
    await page.setViewportSize({ width: 390, height: 800 });
    const sidebar = page.locator(".sidebar");
    await page.waitForFunction(() => {
      const box = document.querySelector(".sidebar")?.getBoundingClientRect();
      return box !== undefined && box.right <= 0;
    });
    await page.getByTestId("chat-view").getByRole("button", { name: "Show sessions" }).click();
    await page.waitForFunction(
      () => (document.querySelector(".sidebar")?.getBoundingClientRect().left ?? -1) >= 0,
    );
    expect(await sidebar.getAttribute("data-open")).toBe("true");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-mobile.png"), animations: "disabled" });
    await context.close();
  }, 60_000);
});

describe("resume", () => {
  test("a reload in the middle of a turn shows the rest of the stream and then the stored turn", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
    await newSession(page);
    const words = Array.from({ length: 40 }, (_, i) => `part${i} `);
    stack.fakeLlm.script([{ text: words, delayMs: 80 }]);
    await send(page, "stream while I reload");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "part3" }).waitFor();
    await page.reload();
    await page.locator('[data-role="assistant"] .markdown', { hasText: "part39" }).waitFor();
    await idle(page);
    const answers = (await page.locator('[data-role="assistant"] .markdown').allTextContents()).map((t) =>
      t.trim(),
    );
    expect(answers).toEqual([words.join("").trim()]);
    expect(await page.locator('[data-testid="chat-message"][data-role="user"]').allTextContents()).toEqual([
      "stream while I reload",
    ]);
    await context.close();
  }, 60_000);

  test("after the server restarts the UI reconnects and the session takes new prompts", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-item").filter({ hasText: "demo" }).click();
    await newSession(page);
    stack.fakeLlm.script([{ text: "before the restart" }]);
    await send(page, "first");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "before the restart" }).waitFor();
    await idle(page);

    await stack.restartServe();
    await page.locator('[data-testid="connection-state"][data-state="reconnecting"]').waitFor();
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();

    stack.fakeLlm.script([{ text: "after the restart" }]);
    await send(page, "second");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "after the restart" }).waitFor();
    await idle(page);
    const answers = (await page.locator('[data-role="assistant"] .markdown').allTextContents()).map((t) =>
      t.trim(),
    );
    expect(answers).toEqual(["before the restart", "after the restart"]);
    await context.close();
  }, 90_000);
});

describe("workspaces", () => {
  test("an invalid workspace name gets the server's error", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("workspace-name-input").fill("../escape");
    await page.getByTestId("workspace-create").click();
    const error = page.getByTestId("form-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("workspace names");
    expect(existsSync(join(stack.workspaceRoot, "../escape"))).toBe(false);
    await context.close();
  });
});

describe("admin", () => {
  test("providers can be added, edited and deleted; bad input gets a clear error", async () => {
    const { context, page } = await openPage(true);
    await page.getByTestId("admin-link").click();
    await page.locator('[data-testid="provider-item"][data-provider="fake"]').waitFor();

    await page.getByTestId("provider-add").click();
    await page.getByTestId("provider-name").fill("Bad Name");
    await page.getByTestId("provider-base-url").fill("http://127.0.0.1:9/v1");
    await page.getByTestId("provider-api-key").fill("k");
    await page.getByTestId("provider-model-new").fill("m1");
    await page.getByTestId("provider-model-add").click();
    await page.getByTestId("provider-save").click();
    await page.getByTestId("form-error").waitFor();
    expect(await page.getByTestId("form-error").textContent()).toContain("provider names");

    await page.getByTestId("provider-name").fill("extra");
    await page.getByTestId("provider-model-new").fill("m2");
    await page.getByTestId("provider-model-new").press("Enter");
    await page.getByTestId("provider-save").click();
    const extra = page.locator('[data-testid="provider-item"][data-provider="extra"]');
    await extra.waitFor();
    expect(await extra.locator(".chip").allTextContents()).toEqual(["m1", "m2"]);

    // Editing: a model unticked is no longer offered, one removed is gone, a new one is added.
    await extra.getByTestId("provider-edit").click();
    await page.getByTestId("provider-api-key").fill("k2");
    const modelRow = (id: string) =>
      page.locator(`[data-testid="provider-model-row"][data-model-id="${id}"]`);
    await modelRow("m1").getByTestId("provider-model-offer").uncheck();
    await modelRow("m2").getByTestId("provider-model-remove").click();
    await page.getByTestId("provider-model-new").fill("m3");
    await page.getByTestId("provider-model-add").click();
    await page.getByTestId("provider-save").click();
    await extra.locator(".chip", { hasText: "m3" }).waitFor();
    expect(await extra.locator(".chip").allTextContents()).toEqual(["m3"]);

    await extra.getByTestId("provider-delete").click();
    await extra.getByTestId("provider-delete-confirm").click();
    await extra.waitFor({ state: "detached" });
    expect(await page.locator('[data-testid="provider-item"]').count()).toBe(1);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-admin.png"), animations: "disabled" });
    await context.close();
  }, 60_000);
});
