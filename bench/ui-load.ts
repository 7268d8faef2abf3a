/**
 * How fast the UI loads, in a real Chromium against the whole product:
 *
 *   - bytes over the wire on a first load (empty cache) of the sign-in page and of a chat, with
 *     the browser asking for br, for gzip only, and for no compression (CDP `encodedDataLength`:
 *     headers and bodies of every HTTP response; the WebSocket's frames are not counted);
 *   - the time to open a 2,000-message session (navigation to the last message on screen) and a
 *     scripted scroll from its end to its start: frame times and long tasks meanwhile.
 *
 * It runs the compiled binary (built with `bun run build` when dist/oqto is missing), whose UI is
 * compressed at build time; `--binary PATH` runs another build (an older commit's, for a before
 * figure), `--source` runs from source (quick compression settings).
 *
 *   bun bench/ui-load.ts [--messages 2000] [--binary PATH | --source]
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium, signIn } from "../tests/helpers/browser.ts";
import { MuxClient, newSessionId } from "../tests/helpers/mux-client.ts";
import { startStack } from "../tests/helpers/stack.ts";

const REPO = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "2000" },
    binary: { type: "string" },
    source: { type: "boolean", default: false },
  },
});
const MESSAGES = Number(values.messages);
const BINARY = values.binary ? resolve(values.binary) : resolve(REPO, "dist/oqto");

if (!values.source && !values.binary && !existsSync(BINARY)) {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("bun run build failed");
}

// The binary finds no pi of its own beside it here: point it at the checkout's.
const PI_CLI = join(dirname(Bun.resolveSync("@mariozechner/pi-coding-agent", REPO)), "cli.js");
const stack = await startStack(
  values.source ? {} : { binary: BINARY, extraConfig: `cli = ${JSON.stringify(PI_CLI)}\n` },
);
const browser = await launchChromium();
try {
  const auth = { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" };
  const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "bench" }),
  });
  const workspace = (await created.json()) as { name: string; path: string };

  const signInContext = await browser.newContext();
  await signIn(await signInContext.newPage(), stack);
  const signedIn = await signInContext.storageState();
  await signInContext.close();

  console.error(`seeding a session of ${MESSAGES} messages…`);
  const seeded = performance.now();
  const sessionId = await seedSession(workspace.path, MESSAGES / 2);
  console.error(`seeded in ${((performance.now() - seeded) / 1000).toFixed(0)} s`);
  const chatUrl = `${stack.baseUrl}/w/${encodeURIComponent(workspace.name)}/s/${encodeURIComponent(sessionId)}`;
  const shortSession = await seedSession(workspace.path, 2);
  const shortChatUrl = `${stack.baseUrl}/w/${encodeURIComponent(workspace.name)}/s/${encodeURIComponent(shortSession)}`;

  const rows: string[] = [];
  for (const encoding of ["br", "gzip", "none"] as const) {
    const signInPage = await transferred(encoding, undefined, `${stack.baseUrl}/login`, (page) =>
      page.getByTestId("login-form").waitFor(),
    );
    const chat = await transferred(encoding, signedIn, shortChatUrl, (page) =>
      page.locator('[data-testid="session-state"]').waitFor(),
    );
    rows.push(
      `| ${encoding} | ${kb(signInPage.bytes)} (${signInPage.requests} requests) | ${kb(chat.bytes)} (${chat.requests} requests) |`,
    );
  }
  console.log("| Accept-Encoding | sign-in page, first load | chat page, first load |");
  console.log("|---|---|---|");
  for (const row of rows) console.log(row);

  const long = await openLongSession(signedIn, chatUrl);
  console.log();
  console.log(`| ${MESSAGES}-message session | figure |`);
  console.log("|---|---|");
  console.log(`| open (navigation to last message shown), median of 3 | ${long.openMs.toFixed(0)} ms |`);
  console.log(
    `| longest task / all long tasks while opening, median of 3 | ${long.openLongest.toFixed(0)} / ${long.openLongTotal.toFixed(0)} ms |`,
  );
  console.log(`| message elements in the DOM after open | ${long.domMessages} |`);
  console.log(`| scroll end → start: frames | ${long.frames} |`);
  console.log(
    `| frame time p50 / p95 / max | ${long.p50.toFixed(1)} / ${long.p95.toFixed(1)} / ${long.max.toFixed(1)} ms |`,
  );
  console.log(
    `| long tasks (> 50 ms) while scrolling: count / total | ${long.longTasks} / ${long.longTaskMs.toFixed(0)} ms |`,
  );
} finally {
  await browser.close();
  await stack.stop();
}

/** A session of `turns` prompt/answer pairs with markdown answers, made through the agent channel. */
async function seedSession(cwd: string, turns: number): Promise<string> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  try {
    const id = newSessionId();
    const created = await client.command(id, "session.create", { config: { harness: "pi", cwd } });
    if (created.error) throw new Error(`session.create: ${String(created.error)}`);
    for (let turn = 1; turn <= turns; turn++) {
      stack.fakeLlm.script([{ text: answer(turn) }]);
      const from = client.frames.length;
      const sent = await client.command(id, "prompt", {
        message: `Question ${turn}: what changed in step ${turn}?`,
      });
      if (!sent.success) throw new Error(`prompt ${turn}: ${JSON.stringify(sent)}`);
      await client.event(id, "agent.idle", from, 60_000);
      // Keep the client's frame log from growing with every turn.
      client.frames.splice(0);
    }
    return id;
  } finally {
    client.close();
  }
}

function answer(turn: number): string[] {
  return [
    `Step **${turn}** changed three things:\n\n`,
    `- the parser now accepts \`item-${turn}\`\n`,
    "- errors name the line they come from\n",
    "- the cache is cleared on reload\n\n",
    "```ts\n",
    `export const step${turn} = parse("item-${turn}", { strict: true });\n`,
    "```\n\n",
    "Run the tests again to see it pass.",
  ];
}

/** Bytes over the wire while a fresh context loads `url` until `ready` and the network is idle. */
async function transferred(
  encoding: "br" | "gzip" | "none",
  storageState: Awaited<ReturnType<BrowserContext["storageState"]>> | undefined,
  url: string,
  ready: (page: Page) => Promise<void>,
): Promise<{ bytes: number; requests: number }> {
  const context = await browser.newContext(storageState ? { storageState } : {});
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    if (encoding !== "br") {
      await cdp.send("Network.setExtraHTTPHeaders", {
        headers: { "Accept-Encoding": encoding === "gzip" ? "gzip" : "identity" },
      });
    }
    let bytes = 0;
    let requests = 0;
    cdp.on("Network.loadingFinished", (event) => {
      bytes += event.encodedDataLength;
      requests += 1;
    });
    await page.goto(url);
    await ready(page);
    await page.waitForLoadState("networkidle");
    return { bytes, requests };
  } finally {
    await context.close();
  }
}

/** Opens the long session three times (fresh page each, warm HTTP cache), then scrolls it end to start. */
async function openLongSession(
  storageState: Awaited<ReturnType<BrowserContext["storageState"]>>,
  url: string,
) {
  const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 820 } });
  try {
    const opens: number[] = [];
    const openTasks: { longest: number; total: number }[] = [];
    let page: Page | undefined;
    // Long tasks from the start of each page: the main thread blocked while the session opens.
    await context.addInitScript(() => {
      const tasks: number[] = [];
      Object.assign(window, { benchLongTasks: tasks });
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) tasks.push(entry.duration);
      }).observe({ type: "longtask", buffered: true });
    });
    for (let run = 0; run < 3; run++) {
      await page?.close();
      page = await context.newPage();
      const started = performance.now();
      await page.goto(url);
      await page
        .locator('[data-role="assistant"]', { hasText: `step${MESSAGES / 2} = parse` })
        .waitFor({ timeout: 120_000 });
      opens.push(performance.now() - started);
      const tasks = await page.evaluate(
        () => (window as unknown as { benchLongTasks: number[] }).benchLongTasks,
      );
      openTasks.push({ longest: Math.max(0, ...tasks), total: tasks.reduce((a, b) => a + b, 0) });
    }
    if (!page) throw new Error("no page");
    const domMessages = await page.locator("[data-testid=chat-message]").count();
    const scroll = await page.evaluate(async () => {
      const scroller = document.querySelector<HTMLElement>(".chat-scroll");
      if (!scroller) throw new Error("no .chat-scroll");
      let longTasks = 0;
      let longTaskMs = 0;
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          longTasks += 1;
          longTaskMs += entry.duration;
        }
      });
      observer.observe({ type: "longtask", buffered: false });
      const frames: number[] = [];
      let last = performance.now();
      // 60 px a frame, as a brisk wheel or a fling scrolls: 600 frames, or to the start.
      await new Promise<void>((done) => {
        const step = (now: number) => {
          frames.push(now - last);
          last = now;
          if (scroller.scrollTop <= 0 || frames.length > 600) return done();
          scroller.scrollTop -= 60;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      });
      observer.disconnect();
      return { frames, longTasks, longTaskMs };
    });
    const sorted = scroll.frames.slice(1).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const median = <T>(list: T[], by: (item: T) => number) =>
      by(list.sort((a, b) => by(a) - by(b))[Math.floor(list.length / 2)] as T);
    return {
      openMs: median(opens, (ms) => ms),
      openLongest: median(openTasks, (t) => t.longest),
      openLongTotal: median(openTasks, (t) => t.total),
      domMessages,
      frames: sorted.length,
      p50: at(0.5),
      p95: at(0.95),
      max: sorted[sorted.length - 1] ?? 0,
      longTasks: scroll.longTasks,
      longTaskMs: scroll.longTaskMs,
    };
  } finally {
    await context.close();
  }
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
