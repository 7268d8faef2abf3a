/**
 * The web policy of the UI and the API against the whole product: the headers every page, chunk and
 * API answer carries (file downloads: files.test.ts), that another origin can neither frame the
 * signed-in app nor make changes with its cookie, and that the page's own policy stops a beacon to
 * another origin. Every browser test also fails on any CSP violation in the UI (helpers/browser.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext } from "playwright-core";
import { launchChromium, newPage, signInState } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
const pageErrors: string[] = [];
let signedInState: Awaited<ReturnType<BrowserContext["storageState"]>>;

/** Another origin on this machine: serves `pages`, records every request that reaches it. */
function startOutsider(pages: Record<string, string>) {
  const hits: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const { pathname } = new URL(req.url);
      const page = pages[pathname];
      if (page !== undefined) return new Response(page, { headers: { "content-type": "text/html" } });
      if (pathname !== "/favicon.ico") hits.push(pathname);
      return new Response("", { headers: { "access-control-allow-origin": "*" } });
    },
  });
  return { hits, origin: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  signedInState = await signInState(browser, stack, pageErrors);
}, 90_000);

afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function directives(policy: string | null): Map<string, string> {
  return new Map(
    (policy ?? "").split(";").map((part) => {
      const [name = "", ...values] = part.trim().split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
}

describe("headers", () => {
  test("every UI page and chunk: a strict CSP, nosniff, no referrer, COOP, no framing, HSTS", async () => {
    const page = await fetch(`${stack.baseUrl}/w/demo/s/anything`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    const csp = directives(page.headers.get("content-security-policy"));
    expect(csp.get("script-src")).toBe("'self'");
    expect(csp.get("img-src")).toBe("'self' data: blob:");
    expect(csp.get("connect-src")).toBe("'self'");
    expect(csp.get("frame-ancestors")).toBe("'none'");
    expect(csp.get("object-src")).toBe("'none'");
    expect(csp.get("base-uri")).toBe("'none'");
    expect(csp.get("default-src")).toBe("'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("strict-transport-security")).toContain("max-age=");
    expect(page.headers.get("cache-control")).toBe("no-cache");

    // The page's chunks: the same policy, cached for good (hashed names), revalidated by ETag.
    const chunks = [...html.matchAll(/(?:src|href)="(\/chunk-[^"]+)"/g)].map((m) => m[1] ?? "");
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    for (const chunk of chunks) {
      const res = await fetch(`${stack.baseUrl}${chunk}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(res.headers.get("content-type")).toMatch(/^text\/(javascript|css)/);
      expect(res.headers.get("cache-control")).toContain("immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe(page.headers.get("content-security-policy"));
      const again = await fetch(`${stack.baseUrl}${chunk}`, {
        headers: { "if-none-match": res.headers.get("etag") ?? "" },
      });
      expect(again.status).toBe(304);
    }
    // A chunk that does not exist is a 404, never the page in its place.
    const missing = await fetch(`${stack.baseUrl}/chunk-doesnotexist.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).not.toContain("html");
  });

  test("every API answer: nothing to render, frame or sniff", async () => {
    const answers = [
      await fetch(`${stack.baseUrl}/api/health`),
      await fetch(`${stack.baseUrl}/api/me`, { headers: { authorization: `Bearer ${stack.admin.token}` } }),
      await fetch(`${stack.baseUrl}/api/me`),
      await fetch(`${stack.baseUrl}/api/no-such-route`, {
        headers: { authorization: `Bearer ${stack.admin.token}` },
      }),
      await fetch(`${stack.baseUrl}/api/ws/mux`),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 200, 401, 404, 401]);
    for (const res of answers) {
      await res.arrayBuffer();
      if (res.url.endsWith("/api/ws/mux")) continue;
      const csp = directives(res.headers.get("content-security-policy"));
      expect(csp.get("default-src")).toBe("'none'");
      expect(csp.get("frame-ancestors")).toBe("'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    }
  });
});

describe("another origin", () => {
  test("cannot frame the signed-in app", async () => {
    const outsider = startOutsider({
      "/frame.html": `<p id="outside">outside</p><iframe id="app-frame" src="${stack.baseUrl}/"></iframe>`,
    });
    try {
      const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
      // Control: the signed-in app, opened directly, shows the workspaces.
      await page.goto(`${stack.baseUrl}/`);
      await page.getByRole("heading", { name: "Workspaces" }).waitFor();
      await page.goto(`${outsider.origin}/frame.html`);
      await page.locator("#outside").waitFor();
      await page.waitForFunction(() => document.querySelector("iframe")?.contentWindow !== null);
      await Bun.sleep(500);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame).toBeDefined();
      // The refused frame is the browser's error page: no app, no workspaces.
      expect(await frame?.locator("#app").count()).toBe(0);
      expect(await frame?.getByText("Workspaces").count()).toBe(0);
      await context.close();
    } finally {
      outsider.stop();
    }
  }, 60_000);

  test("cannot make changes with the user's cookie, and Oqto's page cannot beacon to it", async () => {
    const { context, page } = await newPage(browser, pageErrors, { storageState: signedInState });
    const target = `${stack.baseUrl}/api/workspaces`;
    const outsider = startOutsider({
      "/csrf.html": `<script>
        fetch(${JSON.stringify(target)}, { method: "POST", credentials: "include", mode: "no-cors",
          headers: { "content-type": "text/plain" }, body: JSON.stringify({ name: "csrf-made" }) }).catch(() => {});
      </script><p id="sent">sent</p>`,
    });
    try {
      await page.goto(`${outsider.origin}/csrf.html`);
      await page.locator("#sent").waitFor();
      await Bun.sleep(500);
      const list = await fetch(target, { headers: { authorization: `Bearer ${stack.admin.token}` } });
      expect(JSON.stringify(await list.json())).not.toContain("csrf-made");
      expect(stack.logs()).not.toContain("csrf-made");

      // The same change from Oqto's own page goes through: the rule refuses the origin, not the cookie.
      await page.goto(`${stack.baseUrl}/`);
      await page.getByRole("heading", { name: "Workspaces" }).waitFor();
      const status = await page.evaluate(async (url) => {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "own-page-made" }),
        });
        return res.status;
      }, target);
      expect(status).toBe(201);

      // A beacon written into Oqto's page cannot leave: img-src allows only our origin.
      await page.evaluate((url) => {
        const image = new Image();
        image.src = url;
        document.body.append(image);
      }, `${outsider.origin}/beacon`);
      await Bun.sleep(300);
      expect(outsider.hits).toEqual([]);
      expect(pageErrors.splice(0)).toEqual([
        expect.stringContaining(`img-src blocked ${outsider.origin}/beacon`),
      ]);
      await context.close();
    } finally {
      outsider.stop();
    }
  }, 60_000);
});
