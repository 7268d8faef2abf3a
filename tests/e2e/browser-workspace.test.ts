/**
 * The workspace tools of the web UI in a real browser (Chromium via playwright-core) against the
 * whole product: session history in the sidebar (reload, search, rename, delete, fork), the file
 * pane (upload, live tree, edit and save) and the terminal. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signInState } from "../helpers/browser.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "tools";

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
  const created = await api("POST", "/api/workspaces", { name: WORKSPACE });
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

/** A signed-in page on the test workspace. */
async function openWorkspace(): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, pageErrors, {
    viewport: { width: 1400, height: 860 },
    storageState: signedInState,
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
  await page.locator('[data-role="assistant"] .markdown', { hasText: answer.slice(0, 40) }).waitFor();
  await idle(page);
}

async function texts(page: Page, role: "user" | "assistant"): Promise<string[]> {
  const selector =
    role === "user"
      ? '[data-testid="chat-message"][data-role="user"] .bubble'
      : '[data-role="assistant"] .markdown';
  return (await page.locator(selector).allTextContents()).map((t) => t.trim());
}

describe("history", () => {
  const filler = (n: number) =>
    Array.from(
      { length: 12 },
      (_, i) => `Paragraph ${i} of answer ${n}, long enough to fill the screen.`,
    ).join("\n\n");

  test("a reload shows the conversation as streamed; search opens it at the hit; rename; delete asks first", async () => {
    const { context, page } = await openWorkspace();
    const sessionId = await newSession(page);
    const prompts = ["Remember <b>zanzibar-quokka</b> for me", "Tell me more", "And one more thing"];
    const answers = ["Noted: the zanzibar-quokka is stored.", filler(2), filler(3)];
    for (const [index, prompt] of prompts.entries()) await converse(page, prompt, answers[index] ?? "");
    const streamedUsers = await texts(page, "user");
    const streamedAnswers = await texts(page, "assistant");
    expect(streamedUsers).toEqual(prompts);

    // Reload: the same messages come back from history, in order, none twice.
    await page.reload();
    await page
      .locator('[data-role="assistant"] .markdown', { hasText: "Paragraph 11 of answer 3" })
      .waitFor();
    expect(await texts(page, "user")).toEqual(streamedUsers);
    expect(await texts(page, "assistant")).toEqual(streamedAnswers);
    const stored = (await (await api("GET", `/api/sessions/${sessionId}/messages`)).json()) as {
      messages: Array<{ id: string; role: string }>;
    };
    const shownIds = await page
      .locator("[data-testid=chat-message][data-message-id]")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-message-id")));
    expect(shownIds).toEqual(stored.messages.map((m) => m.id));

    // The sidebar lists it from history with its live state.
    const row = page.locator(`[data-testid="session-item"][data-session-id="${sessionId}"]`);
    await row.waitFor();
    expect(await row.locator(".state-dot").getAttribute("data-state")).toBe("idle");

    // Search from another page of the app: the hit opens the session scrolled to the message.
    await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
    await page.getByTestId("history-search").fill("quokka");
    const hit = page.locator(`[data-testid="search-hit"][data-session-id="${sessionId}"]`).first();
    await hit.waitFor();
    expect((await hit.locator("mark").allTextContents()).map((t) => t.toLowerCase())).toContain("quokka");
    // Snippets are text: the markup the user typed shows as characters, never as elements.
    const userHit = page.locator('[data-testid="search-hit"]', { hasText: "<b>" });
    await userHit.first().waitFor();
    expect(await userHit.first().locator(".search-hit-snippet b").count()).toBe(0);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-history-search.png"), animations: "disabled" });

    const messageId = (await hit.getAttribute("data-message-id")) ?? "";
    await hit.click();
    await page.waitForURL(new RegExp(`/s/${sessionId}$`));
    // (The hit itself carries the message id too: look for the message in the chat.)
    const target = page.locator(`[data-testid="chat-message"][data-message-id="${messageId}"]`);
    await target.waitFor();
    await page.waitForFunction(
      (id) =>
        document
          .querySelector(`[data-testid="chat-message"][data-message-id="${id}"]`)
          ?.getAttribute("data-focused") === "true",
      messageId,
    );
    expect(await target.isVisible()).toBe(true);
    const inView = await target.evaluate((element) => {
      const box = element.getBoundingClientRect();
      const scroller = document.querySelector(".chat-scroll")?.getBoundingClientRect();
      return scroller !== undefined && box.bottom > scroller.top && box.top < scroller.bottom;
    });
    expect(inView).toBe(true);
    // The hit is the first exchange: the view stayed there instead of following to the bottom.
    expect(await page.locator(".jump-latest").count()).toBe(1);
    await page.getByTestId("history-search").fill("");

    // Rename inline.
    await row.hover();
    await page.locator(".session-row", { has: row }).getByTestId("session-rename").click();
    const input = page.getByTestId("session-rename-input");
    await input.fill("Lighthouse notes");
    await input.press("Enter");
    await row.locator(".session-title", { hasText: "Lighthouse notes" }).waitFor();
    const renamed = (await (await api("GET", `/api/sessions/${sessionId}`)).json()) as { title?: string };
    expect(renamed.title).toBe("Lighthouse notes");
    expect(await page.getByTestId("chat-title").textContent()).toBe("Lighthouse notes");

    // Delete: cancelling keeps it, confirming removes it everywhere.
    await row.hover();
    await page.locator(".session-row", { has: row }).getByTestId("session-delete").click();
    await page.getByTestId("confirm-dialog").waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-history-delete.png"), animations: "disabled" });
    await page.getByTestId("dialog-cancel").click();
    await page.getByTestId("confirm-dialog").waitFor({ state: "detached" });
    expect(await row.count()).toBe(1);
    expect((await api("GET", `/api/sessions/${sessionId}`)).status).toBe(200);

    await row.hover();
    await page.locator(".session-row", { has: row }).getByTestId("session-delete").click();
    await page.getByTestId("dialog-confirm").click();
    await row.waitFor({ state: "detached" });
    await page.waitForURL(new RegExp(`/w/${WORKSPACE}$`));
    expect((await api("GET", `/api/sessions/${sessionId}`)).status).toBe(404);
    await context.close();
  }, 120_000);

  test("forking at a user message opens a new session with the history before it and that message to edit", async () => {
    const { context, page } = await openWorkspace();
    const original = await newSession(page);
    await converse(page, "first question", "first answer");
    await converse(page, "second question", "second answer");

    const second = page.locator('[data-testid="chat-message"][data-role="user"]', {
      hasText: "second question",
    });
    await second.hover();
    await second.getByTestId("message-fork").click();
    await page.waitForURL((url) => url.pathname.includes("/s/") && !url.pathname.endsWith(original));
    const forked = sessionIdOf(page);
    await page.locator('[data-role="assistant"] .markdown', { hasText: "first answer" }).waitFor();
    await page.waitForFunction(
      () =>
        (document.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]')?.value ?? "") ===
        "second question",
    );
    expect(await texts(page, "user")).toEqual(["first question"]);
    expect(await texts(page, "assistant")).toEqual(["first answer"]);
    await page.locator(`[data-testid="session-item"][data-session-id="${forked}"]`).waitFor();
    const summary = (await (await api("GET", `/api/sessions/${forked}`)).json()) as {
      parent_session_id?: string;
    };
    expect(summary.parent_session_id).toBe(original);
    await context.close();
  }, 90_000);

  test("the list loads further pages of sessions as it scrolls", async () => {
    const paged = "paged";
    expect((await api("POST", "/api/workspaces", { name: paged })).status).toBe(201);
    // More sessions than one page (30): created and stopped through the mux, which history lists.
    const mux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    const created: string[] = [];
    try {
      for (let i = 0; i < 34; i++) {
        const id = newSessionId();
        const cwd = join(stack.workspaceRoot, paged);
        const reply = await mux.command(id, "session.create", { config: { harness: "pi", cwd } });
        expect(reply.success).toBe(true);
        await mux.command(id, "session.close");
        created.push(id);
      }
    } finally {
      mux.close();
    }
    const { context, page } = await openWorkspace();
    await page.goto(`${stack.baseUrl}/w/${paged}`);
    const items = page.getByTestId("session-item");
    await items.first().waitFor();
    await page.getByTestId("history-load-more").waitFor();
    expect(await items.count()).toBe(30);
    await page.locator(".sidebar-scroll").evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid="session-item"]').length === count,
      created.length,
    );
    const shown = await items.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-session-id")));
    // Newest first, each once, and nothing more to load.
    expect(shown).toEqual([...created].reverse());
    expect(await page.getByTestId("history-load-more").count()).toBe(0);
    await context.close();
  }, 180_000);
});

describe("files", () => {
  test("upload shows up in the tree; an agent write appears by itself; a text file is edited and saved", async () => {
    const { context, page } = await openWorkspace();
    await page.getByTestId("toggle-files").click();
    await page.getByTestId("files-panel").waitFor();
    await page.getByTestId("file-tree").waitFor();

    // Upload two files through the picker input.
    await page.getByTestId("file-upload-input").setInputFiles([
      { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("first line\n") },
      { name: "data.json", mimeType: "application/json", buffer: Buffer.from('{"answer": 42}\n') },
    ]);
    await page.locator('[data-testid="upload-item"][data-path="notes.txt"][data-status="done"]').waitFor();
    await page.locator('[data-testid="upload-item"][data-path="data.json"][data-status="done"]').waitFor();
    await page.locator('[data-testid="file-node"][data-path="notes.txt"]').waitFor();
    await page.locator('[data-testid="file-node"][data-path="data.json"]').waitFor();
    expect(readFileSync(join(stack.workspaceRoot, WORKSPACE, "data.json"), "utf8")).toBe('{"answer": 42}\n');

    // The agent writes a file through its tool: the tree shows it without a reload.
    await newSession(page);
    stack.fakeLlm.script([
      {
        match: "write the report",
        toolCalls: [
          { name: "write", arguments: { path: "reports/q3.md", content: "# Q3\n\nAll *good*.\n" } },
        ],
      },
      { text: "The report is written." },
    ]);
    const composer = page.getByTestId("composer-input");
    await composer.fill("Please write the report");
    await composer.press("Enter");
    const folder = page.locator('[data-testid="file-node"][data-path="reports"]');
    await folder.waitFor();
    await folder.click();
    await page.locator('[data-testid="file-node"][data-path="reports/q3.md"]').waitFor();
    await idle(page);

    // Files dropped on a folder upload into it.
    await page.evaluate(() => {
      const row = document.querySelector('[data-testid="file-node"][data-path="reports"]');
      const transfer = new DataTransfer();
      transfer.items.add(new File(["dropped bytes\n"], "dropped.txt", { type: "text/plain" }));
      for (const type of ["dragenter", "dragover", "drop"]) {
        row?.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
      }
    });
    await page
      .locator('[data-testid="upload-item"][data-path="reports/dropped.txt"][data-status="done"]')
      .waitFor();
    await page.locator('[data-testid="file-node"][data-path="reports/dropped.txt"]').waitFor();
    expect(readFileSync(join(stack.workspaceRoot, WORKSPACE, "reports/dropped.txt"), "utf8")).toBe(
      "dropped bytes\n",
    );

    // A folder downloads as a zip.
    const download = page.waitForEvent("download");
    await page.locator('[data-testid="file-node"][data-path="reports"]').click({ button: "right" });
    await page.getByTestId("menu-download").click();
    const zip = await download;
    expect(zip.suggestedFilename()).toEndWith(".zip");
    const zipPath = await zip.path();
    expect(readFileSync(zipPath).subarray(0, 2).toString()).toBe("PK");

    // The path in the tool card opens the file in the pane.
    await page.locator('[data-testid="tool-open-file"][data-path="reports/q3.md"]').click();
    const preview = page.locator('[data-testid="file-preview"][data-path="reports/q3.md"]');
    await preview.locator('[data-testid="file-markdown"] em', { hasText: "good" }).waitFor();

    // A change on disk while a file is open reloads it.
    writeFileSync(join(stack.workspaceRoot, WORKSPACE, "reports/q3.md"), "# Q3\n\nAll *better*.\n");
    await preview.locator('[data-testid="file-markdown"] em', { hasText: "better" }).waitFor();

    // Edit and save a text file; the dirty state shows until it is saved.
    await page.locator('[data-testid="file-node"][data-path="notes.txt"]').click();
    const notes = page.locator('[data-testid="file-preview"][data-path="notes.txt"]');
    await notes.getByTestId("file-code").getByText("first line").waitFor();
    await notes.getByTestId("file-edit").click();
    const editor = notes.getByTestId("file-editor");
    await editor.fill("first line\nsecond line from the browser\n");
    await notes.getByTestId("file-dirty").waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-files-edit.png"), animations: "disabled" });
    await editor.press("Control+s");
    await notes.getByTestId("file-dirty").waitFor({ state: "detached" });
    expect(readFileSync(join(stack.workspaceRoot, WORKSPACE, "notes.txt"), "utf8")).toBe(
      "first line\nsecond line from the browser\n",
    );

    // Switching files with unsaved edits asks first.
    await editor.fill("unsaved change\n");
    await page.locator('[data-testid="file-node"][data-path="data.json"]').click();
    await page.getByTestId("confirm-dialog").waitFor();
    await page.getByTestId("dialog-cancel").click();
    // CodeMirror holds the text as lines: the edit and the empty line after its newline.
    expect(await notes.locator(".cm-content .cm-line").allTextContents()).toEqual(["unsaved change", ""]);
    await notes.getByTestId("file-save").click();
    await notes.getByTestId("file-dirty").waitFor({ state: "detached" });
    expect(readFileSync(join(stack.workspaceRoot, WORKSPACE, "notes.txt"), "utf8")).toBe("unsaved change\n");

    // Rename and delete through the context menu.
    await page.locator('[data-testid="file-node"][data-path="data.json"]').click({ button: "right" });
    await page.getByTestId("menu-rename").click();
    await page.getByTestId("dialog-input").fill("answer.json");
    await page.getByTestId("dialog-confirm").click();
    // Says what the page and the disk showed if the renamed entry never appears (it did, rarely, in CI).
    await page
      .locator('[data-testid="file-node"][data-path="answer.json"]')
      .waitFor()
      .catch(async (error: Error) => {
        const text = ((await page.locator("body").textContent()) ?? "").slice(0, 3000);
        const onDisk = existsSync(join(stack.workspaceRoot, WORKSPACE, "answer.json"));
        throw new Error(
          `${error.message}\nrenamed on disk: ${onDisk}\npage: ${JSON.stringify(text)}\nserve: ${stack.logs().slice(-2000)}`,
        );
      });
    expect(existsSync(join(stack.workspaceRoot, WORKSPACE, "answer.json"))).toBe(true);
    expect(existsSync(join(stack.workspaceRoot, WORKSPACE, "data.json"))).toBe(false);

    await page.locator('[data-testid="file-node"][data-path="answer.json"]').click({ button: "right" });
    await page.getByTestId("menu-delete").click();
    await page.getByTestId("dialog-confirm").click();
    await page.locator('[data-testid="file-node"][data-path="answer.json"]').waitFor({ state: "detached" });
    expect(existsSync(join(stack.workspaceRoot, WORKSPACE, "answer.json"))).toBe(false);

    await page.screenshot({ path: join(OUTPUT_DIR, "ui-files.png"), animations: "disabled" });
    await page.getByTestId("theme-toggle").click();
    await page.getByTestId("theme-toggle").click();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-files-dark.png"), animations: "disabled" });
    await context.close();
  }, 120_000);
});

describe("terminal", () => {
  test("a shell in the workspace echoes a command and keeps its scrollback over a reload", async () => {
    const { context, page } = await openWorkspace();
    await page.getByTestId("toggle-terminal").click();
    const view = page.getByTestId("terminal-view");
    await page.waitForFunction(() => {
      const state = document.querySelector('[data-testid="terminal-view"]')?.getAttribute("data-state");
      return state === "open" || state === "failed";
    });
    if ((await view.getAttribute("data-state")) === "failed") {
      const code = await page.getByTestId("terminal-error").getAttribute("data-code");
      expect(code).toBe("not_supported");
      console.warn("SKIPPED terminal checks: this server answers the terminal channel with not_supported");
      await context.close();
      return;
    }
    await page.locator(".xterm-helper-textarea").focus();
    await page.keyboard.type("echo hello-$((6*7))");
    await page.keyboard.press("Enter");
    const rows = page.locator(".xterm-rows");
    await rows.getByText("hello-42", { exact: false }).first().waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-terminal.png"), animations: "disabled" });

    // A reload re-attaches the same shell and replays its scrollback.
    const ids = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
    expect(ids).toContain("term-");
    await page.reload();
    await page.locator('[data-testid="terminal-view"][data-state="open"]').waitFor();
    await page.locator(".xterm-rows").getByText("hello-42", { exact: false }).first().waitFor();
    await context.close();
  }, 90_000);
});
