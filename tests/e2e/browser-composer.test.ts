/**
 * The composer in a real browser against the whole product (serve, runner, real pi, the fake LLM):
 * pasted images go to pi and stay in history, `/` lists the running pi's commands and runs the one
 * chosen, `@` completes workspace paths, and a dropped file is uploaded and its path inserted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, pickModel, signInState } from "../helpers/browser.ts";
import { addPromptTemplateAndSkill } from "../helpers/pi-command-fixtures.ts";
import { solidPng } from "../helpers/png.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "composer";
let stack: Stack;
let browser: Browser;
let workspacePath: string;
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.baseUrl}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.admin.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  // pi discovers the workspace's prompt templates and skills (the default test flags turn them off).
  stack = await startStack({ piExtraArgs: ["--no-context-files", "--no-extensions", "--no-themes"] });
  // Without "image" in the model's input pi would send a placeholder instead of the picture.
  const provider = await api("PUT", "/admin/providers/fake", {
    name: "fake",
    api: "openai-completions",
    base_url: stack.fakeLlm.url,
    models: [{ id: "fake-model", input: ["text", "image"] }, "fake-model-2"],
  });
  expect(provider.status).toBe(200);
  const created = await api("POST", "/workspaces", { name: WORKSPACE });
  expect(created.status).toBe(201);
  workspacePath = created.json.path as string;
  addPromptTemplateAndSkill(workspacePath);
  mkdirSync(join(workspacePath, "src/parser"), { recursive: true });
  writeFileSync(join(workspacePath, "src/parser/lexer.ts"), "export {};\n");
  writeFileSync(join(workspacePath, "src/main.ts"), "export {};\n");
  writeFileSync(join(workspacePath, "README.md"), "# composer\n");
  stack.own(workspacePath);

  browser = await launchChromium();
  signedInState = await signInState(browser, stack, pageErrors);
}, 90_000);

afterEach(() => {
  const errors = pageErrors.splice(0);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A signed-in page in a new session of the workspace, idle. */
async function openNewSession(): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
  await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
  await page.getByTestId("new-session").first().click();
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await idle(page);
  return { context, page };
}

const idle = (page: Page) => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

/** Pastes files into the composer the way a browser delivers a pasted screenshot. */
async function pasteFiles(page: Page, files: Array<{ name: string; type: string; base64: string }>) {
  await page.getByTestId("composer-input").evaluate((textarea, list) => {
    const transfer = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], f.name, { type: f.type }));
    }
    textarea.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }),
    );
  }, files);
}

const options = (page: Page) =>
  page.getByTestId("completion-option").evaluateAll((nodes) => nodes.map((n) => n.dataset.value));

describe("images", () => {
  test("a pasted PNG reaches pi as an image (the fake LLM receives it) and shows as a thumbnail after a reload", async () => {
    const { context, page } = await openNewSession();
    const png = solidPng(24, 16, [30, 144, 255]).toString("base64");
    await pasteFiles(page, [{ name: "screenshot.png", type: "image/png", base64: png }]);
    await page.getByTestId("attachment-image").waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-composer-attachment.png"), animations: "disabled" });

    // A file that claims to be an image but is not is refused in the composer, with the reason.
    await pasteFiles(page, [{ name: "fake.png", type: "image/png", base64: btoa("not a picture") }]);
    expect(await page.getByTestId("attachment-notice").textContent()).toContain(
      "fake.png is not a valid PNG",
    );
    expect(await page.getByTestId("attachment-image").count()).toBe(1);

    stack.fakeLlm.reset();
    stack.fakeLlm.script([{ text: "A blue rectangle." }]);
    const input = page.getByTestId("composer-input");
    await input.fill("What is in this screenshot?");
    await input.press("Enter");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "A blue rectangle." }).waitFor();
    await idle(page);
    expect(stack.fakeLlm.images()).toEqual([{ mimeType: "image/png", data: png }]);
    expect(await page.getByTestId("attachment-image").count()).toBe(0);

    await page.reload();
    const thumbnail = page.locator('[data-role="user"] [data-testid="message-image"] img');
    await thumbnail.waitFor();
    expect(await thumbnail.getAttribute("src")).toBe(`data:image/png;base64,${png}`);
    // Decoded and shown under the UI's Content-Security-Policy (a blocked image has no size).
    expect(
      await thumbnail.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]),
    ).toEqual([24, 16]);
    const button = page.locator('[data-role="user"] [data-testid="message-image"]');
    await button.press("Enter");
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-composer-image.png"), animations: "disabled" });
    await context.close();
  }, 90_000);

  test("dropping a file that is not an image uploads it into the workspace and inserts its path", async () => {
    const { context, page } = await openNewSession();
    const input = page.getByTestId("composer-input");
    await input.fill("Summarize");
    await page.locator("form.composer").evaluate((form) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["city,population\nLyon,522250\n"], "cities.csv", { type: "text/csv" }));
      form.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="composer-input"]') as HTMLTextAreaElement).value ===
        "Summarize uploads/cities.csv ",
    );
    expect(readFileSync(join(workspacePath, "uploads/cities.csv"), "utf8")).toBe(
      "city,population\nLyon,522250\n",
    );
    expect(await page.getByTestId("attachment-image").count()).toBe(0);
    await context.close();
  }, 60_000);

  test("an image for a model that takes none comes with a warning", async () => {
    const { context, page } = await openNewSession();
    const png = solidPng(2, 2, [9, 9, 9]).toString("base64");
    await pasteFiles(page, [{ name: "dot.png", type: "image/png", base64: png }]);
    await page.getByTestId("attachment-image").waitFor();
    expect(await page.getByTestId("attachment-warning").count()).toBe(0);
    await pickModel(page, "fake/fake-model-2");
    expect(await page.getByTestId("attachment-warning").textContent()).toBe(
      "fake-model-2 does not take images: the agent gets a placeholder instead.",
    );
    await context.close();
  }, 60_000);
});

describe("completion", () => {
  test("`/` lists pi's commands from the running pi; choosing one runs it", async () => {
    const { context, page } = await openNewSession();
    const input = page.getByTestId("composer-input");
    await input.focus();
    await page.keyboard.type("/");
    await page.getByTestId("completion-list").waitFor();
    // Oqto's built-ins first, then what the running pi listed.
    expect(await options(page)).toEqual(["/compact", "/name", "/haiku", "/skill:tidy-notes"]);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-composer-commands.png"), animations: "disabled" });
    const haiku = page.locator('[data-testid="completion-option"][data-value="/haiku"]');
    expect(await haiku.locator(".completion-badge").textContent()).toBe("Prompt");
    expect(await haiku.locator(".completion-detail").textContent()).toBe("Write a haiku about a topic");
    expect(
      await page
        .locator('[data-testid="completion-option"][data-value="/skill:tidy-notes"] .completion-badge')
        .textContent(),
    ).toBe("Skill");

    // The list is a listbox the textarea drives: the active option is its aria-activedescendant.
    await page.keyboard.press("ArrowUp");
    const activeId = await input.getAttribute("aria-activedescendant");
    expect(await page.locator(`[id="${activeId}"]`).getAttribute("data-value")).toBe("/skill:tidy-notes");
    expect(await page.locator(`[id="${activeId}"]`).getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("Escape");
    await page.getByTestId("completion-list").waitFor({ state: "detached" });

    await input.fill("");
    await page.keyboard.type("/ha");
    await page.getByTestId("completion-list").waitFor();
    expect(await options(page)).toEqual(["/haiku"]);
    await page.keyboard.press("Tab");
    expect(await input.inputValue()).toBe("/haiku ");
    await page.getByTestId("completion-list").waitFor({ state: "detached" });

    stack.fakeLlm.reset();
    stack.fakeLlm.script([{ text: "Old pond, a frog jumps." }]);
    await page.keyboard.type("frogs");
    await page.keyboard.press("Enter");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "Old pond, a frog jumps." }).waitFor();
    await idle(page);
    // pi expanded the template: the model got its text, not the command.
    const request = stack.fakeLlm.requests().at(-1) as {
      messages: Array<{ role: string; content: unknown }>;
    };
    const last = JSON.stringify(request.messages.at(-1)?.content);
    expect(last).toContain("Write a haiku about frogs, in the style of Basho.");

    // A built-in runs its own command: the session gets the name, the model gets nothing.
    await page.keyboard.type("/na");
    await page.locator('[data-testid="completion-option"][data-value="/name"]').waitFor();
    expect(await page.locator('[data-value="/name"] .completion-badge').textContent()).toBe("Built-in");
    await page.keyboard.press("Enter");
    await page.keyboard.type("Frog poems");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="chat-title"]', { hasText: "Frog poems" }).waitFor();
    expect(await input.inputValue()).toBe("");
    expect(stack.fakeLlm.requests()).toHaveLength(1);
    await context.close();
  }, 90_000);

  test("`@` completes workspace paths folder by folder and inserts the relative path", async () => {
    const { context, page } = await openNewSession();
    const input = page.getByTestId("composer-input");
    await input.focus();
    await page.keyboard.type("look at @sr");
    await page.getByTestId("completion-list").waitFor();
    expect(await options(page)).toEqual(["src/"]);
    await page.keyboard.press("Enter");
    expect(await input.inputValue()).toBe("look at @src/");
    await page.locator('[data-testid="completion-option"][data-value="src/main.ts"]').waitFor();
    expect(await options(page)).toEqual(["src/parser/", "src/main.ts"]);
    await page.keyboard.type("ma");
    await page
      .locator('[data-testid="completion-option"][data-value="src/parser/"]')
      .waitFor({ state: "detached" });
    await page.keyboard.press("Enter");
    expect(await input.inputValue()).toBe("look at src/main.ts ");
    await page.getByTestId("completion-list").waitFor({ state: "detached" });
    await context.close();
  }, 60_000);
});
