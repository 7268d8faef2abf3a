/**
 * The code editor and the highlighter in a real browser against the whole product (issue 17):
 * a file edited in CodeMirror (search and replace, save with the keyboard, reload), a save over a
 * file changed on disk meanwhile (the conflict prompt, nothing written until the user chooses),
 * huge and binary files read-only, and a code block in an answer: coloured, labelled, and copied
 * exactly. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signInState } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "editor";

let stack: Stack;
let browser: Browser;
/** Uncaught exceptions and CSP violations in the page: any one fails the test that caused it. */
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  signedInState = await signInState(browser, stack, pageErrors);
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: WORKSPACE }),
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

const diskPath = (name: string) => join(stack.workspaceRoot, WORKSPACE, name);
const onDisk = (name: string) => readFileSync(diskPath(name), "utf8");
/** Writes a workspace file the way an agent would (owned by the runner's user). */
function place(name: string, content: string | Uint8Array): void {
  writeFileSync(diskPath(name), content);
  stack.own(diskPath(name));
}

async function openWorkspace(options: Parameters<typeof newPage>[2] = {}): Promise<{
  context: BrowserContext;
  page: Page;
}> {
  const { context, page } = await newPage(browser, pageErrors, {
    viewport: { width: 1400, height: 860 },
    storageState: signedInState,
    ...options,
  });
  await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
  return { context, page };
}

async function openFile(page: Page, name: string) {
  if ((await page.getByTestId("file-tree").count()) === 0) await page.getByTestId("toggle-files").click();
  await page.locator(`[data-testid="file-node"][data-path="${name}"]`).click();
  const preview = page.locator(`[data-testid="file-preview"][data-path="${name}"]`);
  await preview.waitFor();
  return preview;
}

/** The editor's text, line by line as CodeMirror holds it (only lines on screen are in the DOM). */
async function editorText(page: Page): Promise<string> {
  return (await page.locator(".cm-content .cm-line").allTextContents()).join("\n");
}

describe("the file editor", () => {
  test("edit, search and replace, save with Ctrl+S, reload: the change is on disk", async () => {
    place("greet.ts", 'const greeting = "hello";\nexport default greeting;\n');
    const { context, page } = await openWorkspace();
    let preview = await openFile(page, "greet.ts");

    // The view colours by file type with the shared highlighter, with line numbers.
    await preview
      .locator('[data-testid="file-code"][data-language="typescript"] .tok-keyword')
      .first()
      .waitFor();
    expect(await preview.getByTestId("file-code").textContent()).toBe(onDisk("greet.ts"));
    expect(await preview.locator(".code-view-lines").textContent()).toBe("1\n2");

    await preview.getByTestId("file-edit").click();
    const content = preview.getByTestId("file-editor");
    await content.waitFor();
    // CodeMirror: line numbers, and the TypeScript grammar colouring in the editor.
    await preview.locator(".cm-lineNumbers .cm-gutterElement", { hasText: "2" }).waitFor();
    await preview.locator(".cm-content .tok-keyword", { hasText: "const" }).waitFor();
    expect(await content.getAttribute("aria-label")).toBe("Contents of greet.ts");

    // Search and replace (Ctrl+F opens CodeMirror's panel).
    await content.click();
    await page.keyboard.press("Control+f");
    await preview.locator(".cm-search input[name=search]").fill("greeting");
    await preview.locator(".cm-search input[name=replace]").fill("salutation");
    await preview.locator(".cm-search button[name=replaceAll]").click();
    await page.keyboard.press("Escape");
    expect(await editorText(page)).toBe('const salutation = "hello";\nexport default salutation;\n');
    await preview.getByTestId("file-dirty").waitFor();

    // Typing at the end, then Ctrl+S from the keyboard.
    await content.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("// edited in the browser");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-editor.png"), animations: "disabled" });
    await page.keyboard.press("Control+s");
    await preview.getByTestId("file-dirty").waitFor({ state: "detached" });
    const saved = 'const salutation = "hello";\nexport default salutation;\n// edited in the browser';
    expect(onDisk("greet.ts")).toBe(saved);

    // After a reload the file shows what was saved.
    await page.reload();
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    preview = await openFile(page, "greet.ts");
    await preview.getByTestId("file-code").getByText("edited in the browser", { exact: false }).waitFor();
    expect(await preview.getByTestId("file-code").textContent()).toBe(saved);
    await context.close();
  }, 120_000);

  test("a save over a file changed on disk shows the conflict and writes nothing until the user chooses", async () => {
    place("plan.md", "# Plan\n\nStep one.\n");
    const { context, page } = await openWorkspace();
    const preview = await openFile(page, "plan.md");
    await preview.getByTestId("file-edit").click();
    const content = preview.getByTestId("file-editor");
    await content.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("Step two, from the editor.\n");
    await preview.getByTestId("file-dirty").waitFor();

    // The agent writes the file meanwhile.
    place("plan.md", "# Plan\n\nThe agent's rewrite.\n");
    await page.keyboard.press("Control+s");
    const conflict = preview.getByTestId("file-conflict");
    await conflict.waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-editor-conflict.png"), animations: "disabled" });
    // Nothing is written while the prompt waits, and the edits are still in the editor.
    await Bun.sleep(500);
    expect(onDisk("plan.md")).toBe("# Plan\n\nThe agent's rewrite.\n");
    expect(await editorText(page)).toBe("# Plan\n\nStep one.\nStep two, from the editor.\n");
    await preview.getByTestId("file-dirty").waitFor();

    // Keep editing: the prompt goes, the edits stay, and the next save asks again.
    await preview.getByTestId("conflict-keep").click();
    await conflict.waitFor({ state: "detached" });
    await content.click();
    await page.keyboard.press("Control+s");
    await conflict.waitFor();
    expect(onDisk("plan.md")).toBe("# Plan\n\nThe agent's rewrite.\n");

    // Overwrite: the editor's version goes to disk.
    await preview.getByTestId("conflict-overwrite").click();
    await conflict.waitFor({ state: "detached" });
    await preview.getByTestId("file-dirty").waitFor({ state: "detached" });
    expect(onDisk("plan.md")).toBe("# Plan\n\nStep one.\nStep two, from the editor.\n");

    // The saved version is the new base: a further save goes through without a prompt.
    await content.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("Step three.");
    await page.keyboard.press("Control+s");
    await preview.getByTestId("file-dirty").waitFor({ state: "detached" });
    expect(onDisk("plan.md")).toBe("# Plan\n\nStep one.\nStep two, from the editor.\nStep three.");
    expect(await conflict.count()).toBe(0);

    // Reload from disk: the edits go, the disk's version shows, and the disk keeps it.
    await page.keyboard.type(" Lost edit.");
    await preview.getByTestId("file-dirty").waitFor();
    place("plan.md", "# Plan\n\nThe agent won.\n");
    await page.keyboard.press("Control+s");
    await conflict.waitFor();
    await preview.getByTestId("conflict-reload").click();
    await conflict.waitFor({ state: "detached" });
    await preview.getByTestId("file-dirty").waitFor({ state: "detached" });
    await page.waitForFunction(() =>
      document.querySelector(".cm-content")?.textContent?.includes("The agent won."),
    );
    expect(await editorText(page)).toBe("# Plan\n\nThe agent won.\n");
    expect(onDisk("plan.md")).toBe("# Plan\n\nThe agent won.\n");
    await context.close();
  }, 120_000);

  test("a huge text file and a binary file open read-only with a note", async () => {
    const line = "log line with some words in it, repeated to make a large file\n";
    place("huge.log", line.repeat(Math.ceil((3 * 1024 * 1024) / line.length)));
    place("blob.bin", new Uint8Array([0x89, 0x50, 0x00, 0x01, 0xff, 0x00, 0x10]));
    const { context, page } = await openWorkspace();
    const huge = await openFile(page, "huge.log");
    await huge.getByText("Showing the first part of a 3.0 MB file, read-only.", { exact: false }).waitFor();
    // The first 2 MiB show, as text, without freezing the page.
    const shown = await huge.getByTestId("file-code").evaluate((element) => element.textContent?.length ?? 0);
    expect(shown).toBe(2 * 1024 * 1024);
    expect(await huge.getByTestId("file-edit").count()).toBe(0);
    const blob = await openFile(page, "blob.bin");
    await blob.getByText("This is a binary file", { exact: false }).waitFor();
    expect(await blob.getByTestId("file-edit").count()).toBe(0);
    await context.close();
  }, 60_000);
});

describe("code blocks in answers", () => {
  test("a fenced block is coloured and labelled; copy puts the exact code on the clipboard", async () => {
    const { context, page } = await openWorkspace({ permissions: ["clipboard-read", "clipboard-write"] });
    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

    const python = 'def greet(name):\n    # <b>not markup</b>\n    return f"hi {name}" & 42';
    const plain = "plain <i>text</i>\n  indented & kept";
    const answer = `Here it is:\n\n\`\`\`python\n${python}\n\`\`\`\n\nAnd without a language:\n\n\`\`\`\n${plain}\n\`\`\`\n`;
    stack.fakeLlm.script([{ match: "show me code", text: answer }]);
    const composer = page.getByTestId("composer-input");
    await composer.fill("Please show me code");
    await composer.press("Enter");

    const block = page.locator('[data-role="assistant"] [data-testid="code-block"][data-language="python"]');
    await block.locator('code[data-highlighted="python"]').waitFor();
    expect(await block.getByTestId("code-language").textContent()).toBe("Python");
    // Coloured tokens: the keyword and the comment are spans of their own, in other colours.
    const keyword = block.locator(".tok-keyword", { hasText: "def" });
    const comment = block.locator(".tok-comment");
    await keyword.waitFor();
    expect(await comment.textContent()).toBe("# <b>not markup</b>");
    const colours = await block.evaluate((element) => {
      const colourOf = (selector: string) => {
        const node = element.querySelector(selector);
        return node ? getComputedStyle(node).color : "";
      };
      return { keyword: colourOf(".tok-keyword"), comment: colourOf(".tok-comment"), code: colourOf("code") };
    });
    expect(colours.keyword).not.toBe(colours.code);
    expect(colours.comment).not.toBe(colours.code);
    expect(colours.keyword).not.toBe(colours.comment);
    // Agent text stays text: the markup in the comment made no element.
    expect(await block.locator("b").count()).toBe(0);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-code-block.png"), animations: "disabled" });

    await block.getByTestId("code-copy").click();
    await block.getByTestId("code-copy").getByText("Copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(python);

    // A block without a language stays plain, still with its copy button.
    const other = page.locator('[data-role="assistant"] [data-testid="code-block"][data-language="text"]');
    expect(await other.getByTestId("code-language").textContent()).toBe("Text");
    expect(await other.locator("[class^=tok-]").count()).toBe(0);
    expect(await other.locator("i").count()).toBe(0);
    await other.getByTestId("code-copy").click();
    await other.getByTestId("code-copy").getByText("Copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(plain);
    await context.close();
  }, 120_000);
});
