/**
 * eavs mode in a real browser against the whole product (serve with `[eavs]`, its runner, real pi) and the
 * scripted fake eavs: Admin → Providers lists eavs' providers read-only, says where they are managed, and
 * shows the eavs panel (status: providers offered and skipped, key problems, pending revocations; eavs'
 * quotas); Sync now re-reads eavs and shows the result; a chat turn goes through the gateway to eavs with
 * the user's own virtual key; eavs going away shows the server's 503 in the quotas. Every page runs under
 * the UI's Content-Security-Policy. The screenshot goes to test-output/ui-eavs.png.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { EavsStatus } from "../../src/protocol/eavs.ts";
import { FAKE_EAVS_MASTER_KEY, type FakeEavs, startFakeEavs } from "../fixtures/fake-eavs.ts";
import { launchChromium, newPage, OUTPUT_DIR, pickModel, signIn } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { AZURE, OLLAMA, OPENROUTER } from "../server/eavs/eavs-details.ts";

let fake: FakeEavs;
let fakeStopped = false;
let stack: Stack;
let browser: Browser;
let page: Page;
let adminId: string;
/** The key eavs could not disable when its user was deleted: pending until the sync retries it. */
let orphanKeyId: string;
/** Uncaught exceptions and CSP violations in the page: any one fails the test that caused it. */
const pageErrors: string[] = [];

const STRONG = "tangerine-orbit-lamp-42";
const QUOTAS = [
  {
    provider: "openrouter",
    account: "default",
    requests_limit: 500,
    requests_remaining: 498,
    requests_reset_secs: 12,
    tokens_limit: 1_000_000,
    tokens_remaining: 999_000,
    tokens_reset_secs: 90,
    age_secs: 3,
  },
];

const asAdmin = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** The status once `ready` holds for it (the key calls to eavs run behind the account changes). */
async function statusWhen(ready: (status: EavsStatus) => boolean): Promise<EavsStatus> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = (await (await asAdmin("GET", "/api/admin/eavs/status")).json()) as EavsStatus;
    if (ready(status)) return status;
    if (Date.now() > deadline) throw new Error(`eavs status never got there: ${JSON.stringify(status)}`);
    await Bun.sleep(50);
  }
}

async function createUser(username: string): Promise<string> {
  const created = await asAdmin("POST", "/api/admin/users", { username, password: STRONG });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

beforeAll(async () => {
  fake = await startFakeEavs({ providers: [OPENROUTER, OLLAMA], quotas: QUOTAS });
  stack = await startStack({
    extraConfig: `[eavs]\nurl = ${JSON.stringify(fake.url)}\nmaster_key = "env:EAVS_MASTER_KEY"\n`,
    env: { EAVS_MASTER_KEY: FAKE_EAVS_MASTER_KEY },
  });
  adminId = ((await (await asAdmin("GET", "/api/me")).json()) as { id: string }).id;

  // A user whose key eavs refused to make: a key problem.
  fake.respondOnce("POST /admin/keys", {
    status: 500,
    body: JSON.stringify({ error: "the key store is read-only", code: "internal_error" }),
  });
  await createUser("kate");
  await statusWhen((status) => status.keys.some((key) => key.username === "kate" && key.problem !== null));
  // A user deleted while eavs refused to disable their key: a pending revocation.
  const liam = await createUser("liam");
  const withKey = await statusWhen((status) =>
    status.keys.some((key) => key.user_id === liam && key.key_id !== null),
  );
  orphanKeyId = withKey.keys.find((key) => key.user_id === liam)?.key_id ?? "";
  fake.respondOnce(`DELETE /admin/keys/${orphanKeyId}`, {
    status: 500,
    body: JSON.stringify({ error: "the key store is read-only", code: "internal_error" }),
  });
  expect((await asAdmin("DELETE", `/api/admin/users/${liam}`)).status).toBe(204);
  await statusWhen((status) => status.pending_revocations.some((pending) => pending.last_error !== null));
  expect((await asAdmin("POST", "/api/workspaces", { name: "proxied" })).status).toBe(201);

  browser = await launchChromium();
  ({ page } = await newPage(browser, pageErrors, { viewport: { width: 1400, height: 900 } }));
  await signIn(page, stack);
}, 90_000);

afterEach(() => expect(pageErrors.splice(0)).toEqual([]));

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (!fakeStopped) await fake?.stop();
});

/** The whole page: it scrolls inside its own <main>, so the viewport grows to fit it for the picture. */
async function screenshot(name: string): Promise<void> {
  const height = await page.evaluate(() => {
    const main = document.querySelector("main");
    return main ? main.scrollHeight - main.clientHeight + window.innerHeight : window.innerHeight;
  });
  const viewport = page.viewportSize();
  if (!viewport) throw new Error("the page has no viewport");
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.screenshot({ path: join(OUTPUT_DIR, name), animations: "disabled" });
  await page.setViewportSize(viewport);
}

const card = (name: string) => page.locator(`[data-testid="provider-item"][data-provider="${name}"]`);

describe("eavs mode", () => {
  test("Admin → Providers lists eavs' providers read-only, with the eavs status and quotas", async () => {
    await page.getByTestId("admin-link").click();
    await page.waitForURL(/\/admin$/);
    await card("openrouter").waitFor();
    expect(await card("openrouter").locator(".chip").allTextContents()).toEqual(["some/model", "tiny"]);
    expect(await card("openrouter").textContent()).toContain(`${fake.url}/openrouter/v1`);
    expect(await page.getByTestId("provider-item").count()).toBe(1);
    expect(await page.getByTestId("eavs-managed").textContent()).toContain(`managed in eavs at ${fake.url}`);
    // Read-only: no add, edit or delete.
    await page.getByTestId("provider-sync").waitFor();
    expect(await page.getByTestId("provider-add").count()).toBe(0);
    expect(await page.getByTestId("provider-edit").count()).toBe(0);
    expect(await page.getByTestId("provider-delete").count()).toBe(0);

    const panel = page.getByTestId("eavs-panel");
    expect(await panel.getByTestId("eavs-provider-count").textContent()).toBe("1");
    expect(await panel.getByTestId("eavs-refreshed").textContent()).not.toBe("never");
    expect(await panel.getByTestId("eavs-pending-count").textContent()).toBe("1");
    expect(await panel.getByTestId("eavs-read-error").count()).toBe(0);
    const skipped = panel.locator('[data-testid="eavs-skipped-row"][data-name="local"]');
    expect(await skipped.textContent()).toContain("pi cannot speak to eavs' provider type 'ollama'");
    const problem = panel.locator('[data-testid="eavs-key-problem-row"][data-user="kate"]');
    expect(await problem.textContent()).toContain("the key store is read-only");
    const revocation = panel.locator(`[data-testid="eavs-revocation-row"][data-key-id="${orphanKeyId}"]`);
    expect(await revocation.textContent()).toContain("removed");
    expect(await revocation.textContent()).toContain("the key store is read-only");

    const quota = panel.locator('[data-testid="eavs-quota-row"][data-provider="openrouter"]');
    await quota.waitFor();
    expect(await quota.getAttribute("data-account")).toBe("default");
    expect(await quota.getByTestId("eavs-quota-requests").textContent()).toBe("498 of 500");
    expect(await quota.getByTestId("eavs-quota-tokens").textContent()).toBe("999,000 of 1,000,000");
    expect(await quota.textContent()).toContain("in 12 s");
    expect(await quota.textContent()).toContain("3 s ago");
    await screenshot("ui-eavs-before-sync.png");
  }, 60_000);

  test("Sync now re-reads eavs, retries the revocation and shows the result", async () => {
    fake.setProviders([OPENROUTER, AZURE, OLLAMA]);
    await page.getByTestId("provider-sync").click();
    const result = page.getByTestId("provider-sync-result");
    await result.waitFor();
    expect(await result.textContent()).toBe("Synced from eavs: 2 providers, 3 models, sent to every runner.");
    await card("azure").waitFor();
    const panel = page.getByTestId("eavs-panel");
    await panel.locator('[data-testid="eavs-provider-count"]', { hasText: "2" }).waitFor();
    await panel.locator('[data-testid="eavs-pending-count"]', { hasText: "0" }).waitFor();
    expect(await panel.getByTestId("eavs-revocation-row").count()).toBe(0);
    expect(fake.key(orphanKeyId)?.disabled).toBe(true);
    await screenshot("ui-eavs.png");
  }, 60_000);

  test("a chat turn goes through the gateway to eavs with the user's virtual key", async () => {
    await page.goto(`${stack.baseUrl}/`);
    await page.getByTestId("workspace-item").filter({ hasText: "proxied" }).click();
    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
    await pickModel(page, "openrouter/some/model");

    const before = fake.requests().length;
    fake.script([{ text: ["streamed ", "through ", "eavs"] }]);
    const input = page.getByTestId("composer-input");
    await input.fill("hello eavs");
    await input.press("Enter");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "streamed through eavs" }).waitFor();
    await page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

    const chats = fake
      .requests()
      .slice(before)
      .filter((request) => request.method === "POST" && request.path === "/openrouter/v1/chat/completions");
    expect(chats.length).toBe(1);
    const [chat] = chats;
    expect(chat?.body).toMatchObject({ model: "some/model", stream: true });
    const adminKey = fake.keys().find((key) => key.name === `oqto-user-${adminId}` && !key.disabled);
    expect(adminKey).toBeDefined();
    expect(chat?.headers.authorization).toBe(`Bearer ${adminKey?.key}`);
    expect(JSON.stringify(chat?.headers)).not.toContain(FAKE_EAVS_MASTER_KEY);
    expect(adminKey?.usage.total_requests).toBe(1);
  }, 90_000);

  test("with eavs gone, the quotas show the server's 503 and the providers page still works", async () => {
    await fake.stop();
    fakeStopped = true;
    await page.goto(`${stack.baseUrl}/admin/providers`);
    await card("openrouter").waitFor();
    const error = page.getByTestId("eavs-quotas-error");
    await error.waitFor();
    expect(await error.textContent()).toContain(`eavs at ${fake.url} is unreachable`);
  }, 60_000);
});
