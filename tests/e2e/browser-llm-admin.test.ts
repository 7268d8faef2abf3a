/**
 * The LLM gateway's admin and user pages in a real browser against the whole product (serve, runner, real
 * pi, the fake LLM behind the gateway): the admin adds a provider (connection test, its model listing, a
 * price), sets a user's budget and allowed models (the server's refusal shown at its field), then a chat
 * turn shows its tokens, cost and context in the chat header, the Usage page charts it (uPlot, a chunk
 * of its own) with per-user and per-model rows, and the Account page shows the user's own usage and
 * limits. Every page runs under the UI's Content-Security-Policy. Screenshots go to test-output/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, signIn } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
let page: Page;
let adminId: string;
/** Uncaught exceptions and CSP violations in the page: any one fails the test that caused it. */
const pageErrors: string[] = [];
/** Every script the page fetched, by URL path, in order. */
const scripts: string[] = [];
/** The chat's URL, for the narrow-screen check. */
let chatUrl = "";

/** USD per million tokens; the fake LLM reports 100 input and 20 output tokens per answer. */
const PRICE = { input: 10, output: 50 };
const COST_PER_ANSWER = (100 * PRICE.input + 20 * PRICE.output) / 1e6;
const CONTEXT_WINDOW = 32_000;

const asAdmin = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

beforeAll(async () => {
  stack = await startStack({ noProvider: true });
  browser = await launchChromium();
  ({ page } = await newPage(browser, pageErrors, { viewport: { width: 1400, height: 900 } }));
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname.endsWith(".js")) scripts.push(url.pathname);
  });
  await signIn(page, stack);
  adminId = ((await (await asAdmin("GET", "/api/me")).json()) as { id: string }).id;
  expect((await asAdmin("POST", "/api/workspaces", { name: "metered" })).status).toBe(201);
}, 90_000);

afterEach(() => expect(pageErrors.splice(0)).toEqual([]));

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const idle = () => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();
const modelRow = (id: string) => page.locator(`[data-testid="provider-model-row"][data-model-id="${id}"]`);
const limitsRow = (scope: string, subject: string) =>
  page.locator(`[data-testid="limits-row"][data-scope="${scope}"][data-subject="${subject}"]`);

async function send(text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

describe("LLM admin", () => {
  test("the admin adds a provider: tests the connection, fetches its models, prices one, saves", async () => {
    await page.getByTestId("admin-link").click();
    await page.waitForURL(/\/admin$/);
    await page.getByTestId("provider-add").click();
    await page.getByTestId("provider-name").fill("fake");
    await page.getByTestId("provider-base-url").fill(stack.fakeLlm.url);
    await page.getByTestId("provider-api-key").fill("fake-key");

    await page.getByTestId("provider-test").click();
    const result = page.locator('[data-testid="provider-probe-result"][data-ok="true"]');
    await result.waitFor();
    expect(await result.textContent()).toContain("Connected");
    expect(Number(await result.getAttribute("data-latency"))).toBeGreaterThanOrEqual(0);
    // A test lists nothing into the table.
    expect(await page.getByTestId("provider-model-row").count()).toBe(0);

    // The fake lists one model; fetched models are in the table, offered only once ticked.
    await page.getByTestId("provider-fetch-models").click();
    await modelRow("fake-model").waitFor();
    expect(await page.getByTestId("provider-probe-result").textContent()).toContain("1 new in the table");
    expect(await modelRow("fake-model").getAttribute("data-offered")).toBe("false");
    await modelRow("fake-model").getByTestId("provider-model-offer").check();
    await modelRow("fake-model").getByTestId("provider-model-context-window").fill(String(CONTEXT_WINDOW));
    await modelRow("fake-model").getByTestId("provider-model-max-tokens").fill("4096");
    await modelRow("fake-model").getByTestId("provider-model-price-input").fill(String(PRICE.input));
    await modelRow("fake-model").getByTestId("provider-model-price-output").fill(String(PRICE.output));

    // A second model by its id, that reasons; a price with only its input is refused, next to the field.
    await page.getByTestId("provider-model-new").fill("fake-model-2");
    await page.getByTestId("provider-model-new").press("Enter");
    await modelRow("fake-model-2").waitFor();
    await modelRow("fake-model-2").getByTestId("provider-model-reasoning").check();
    await modelRow("fake-model-2").getByTestId("provider-model-price-input").fill("1");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-provider-form.png"), animations: "disabled" });
    await page.getByTestId("provider-save").click();
    const outputIssue = modelRow("fake-model-2").getByTestId("field-error");
    await outputIssue.waitFor();
    expect(await outputIssue.textContent()).toContain("expected number");
    await modelRow("fake-model-2").getByTestId("provider-model-price-input").fill("");

    await page.getByTestId("provider-save").click();
    const card = page.locator('[data-testid="provider-item"][data-provider="fake"]');
    await card.waitFor();
    expect(await card.locator(".chip").allTextContents()).toEqual(["fake-model", "fake-model-2"]);
    expect(await card.textContent()).toContain("key stored");
    const [provider] = (await (await asAdmin("GET", "/api/admin/providers")).json()) as Array<{
      models: Array<Record<string, unknown>>;
    }>;
    expect(provider?.models).toEqual([
      {
        id: "fake-model",
        context_window: CONTEXT_WINDOW,
        max_tokens: 4096,
        price: { ...PRICE, cache_read: 0, cache_write: 0 },
      },
      { id: "fake-model-2", reasoning: true },
    ]);

    // Editing keeps the stored key when the field stays empty; the probe then uses the stored key.
    await card.getByTestId("provider-edit").click();
    expect(await page.getByTestId("provider-api-key").inputValue()).toBe("");
    expect(await page.getByTestId("provider-form").textContent()).toContain("Stored; leave empty to keep it");
    await page.getByTestId("provider-test").click();
    await page.locator('[data-testid="provider-probe-result"][data-ok="true"]').waitFor();
    expect(await modelRow("fake-model").getByTestId("provider-model-price-output").inputValue()).toBe("50");
    await page.getByTestId("provider-save").click();
    await page.getByTestId("provider-form").waitFor({ state: "detached" });
    expect(await card.textContent()).toContain("key stored");
  }, 60_000);

  test("the admin sets a user's budget and allowed models; a bad value is refused at its field", async () => {
    await page.getByTestId("admin-nav-limits").click();
    await page.waitForURL(/\/admin\/limits$/);
    await limitsRow("role", "user").waitFor();
    await limitsRow("role", "admin").waitFor();
    const row = limitsRow("user", adminId);
    expect(await row.getAttribute("data-set")).toBe("false");

    await row.getByTestId("limits-edit").click();
    const form = page.getByTestId("limits-form");
    await form.getByTestId("limits-daily-budget-usd").fill("1");
    await form.getByTestId("limits-monthly-budget-usd").fill("-5");
    await form.getByTestId("limits-models-some").check();
    await form.locator('[data-testid="limits-model"][data-value="fake/fake-model"]').check();
    await form.getByTestId("limits-save").click();
    const issue = form.locator('.field[data-invalid="true"]');
    await issue.waitFor();
    expect(await issue.locator(".field-label").textContent()).toBe("Monthly budget (USD)");
    expect(await issue.getByTestId("field-error").textContent()).toContain(">=0");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-limits-error.png"), animations: "disabled" });

    await form.getByTestId("limits-monthly-budget-usd").fill("20");
    await form.getByTestId("limits-save").click();
    await form.waitFor({ state: "detached" });
    await page.locator(`[data-testid="limits-row"][data-subject="${adminId}"][data-set="true"]`).waitFor();
    expect(await row.getByTestId("limits-cell-daily_budget_usd").textContent()).toBe("$1.00 a day");
    expect(await row.getByTestId("limits-cell-monthly_budget_usd").textContent()).toBe("$20.00 a month");
    expect(await row.getByTestId("limits-cell-models").textContent()).toBe("fake/fake-model");
    const entries = (await (await asAdmin("GET", "/api/admin/limits")).json()) as Array<{
      subject: string;
      limits: unknown;
    }>;
    expect(entries.find((entry) => entry.subject === adminId)?.limits).toEqual({
      daily_budget_usd: 1,
      monthly_budget_usd: 20,
      models: ["fake/fake-model"],
    });

    // A role's limits can be set and cleared again.
    await limitsRow("role", "user").getByTestId("limits-edit").click();
    await form.getByTestId("limits-rpm").fill("120");
    await form.getByTestId("limits-save").click();
    await page.locator('[data-testid="limits-row"][data-subject="user"][data-set="true"]').waitFor();
    expect(await limitsRow("role", "user").getByTestId("limits-cell-rpm").textContent()).toBe(
      "120 requests / min",
    );
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-limits.png"), animations: "disabled" });
    await limitsRow("role", "user").getByTestId("limits-clear").click();
    await page.getByTestId("confirm-dialog").getByTestId("dialog-confirm").click();
    await page.locator('[data-testid="limits-row"][data-subject="user"][data-set="false"]').waitFor();
  }, 60_000);
});

describe("metered chat", () => {
  test("the chat header shows the session's tokens, cost and context; the picker searches and tells prices", async () => {
    await page.goto(`${stack.baseUrl}/`);
    await page.getByTestId("workspace-item").filter({ hasText: "metered" }).click();
    await page.getByTestId("new-session").first().click();
    await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
    chatUrl = page.url();
    await idle();
    expect(await page.getByTestId("chat-usage").count()).toBe(0);

    stack.fakeLlm.script([{ text: "metered answer" }]);
    await send("hello");
    await page.locator('[data-role="assistant"] .markdown', { hasText: "metered answer" }).waitFor();
    await idle();
    const usage = page.getByTestId("chat-usage");
    await usage.waitFor();
    expect(Number(await usage.getAttribute("data-tokens"))).toBe(120);
    expect(Number(await usage.getAttribute("data-cost"))).toBeCloseTo(COST_PER_ANSWER, 9);
    expect(await page.getByTestId("chat-usage-totals").textContent()).toBe("120 tokens · $0.002");
    const gauge = page.getByTestId("context-gauge");
    expect(await gauge.getAttribute("data-used")).toBe("120");
    expect(await gauge.getAttribute("data-window")).toBe(String(CONTEXT_WINDOW));
    expect(await gauge.textContent()).toBe("120 / 32k");
    expect(await gauge.locator("meter").getAttribute("aria-label")).toBe(
      "Context: 120 of 32,000 tokens (0%)",
    );

    // The picker: grouped by provider, each model with its context and price, narrowed by a search.
    const picker = page.getByTestId("model-picker");
    expect(await picker.getAttribute("data-value")).toBe("fake/fake-model");
    await picker.click();
    const options = page.getByTestId("model-option");
    await options.first().waitFor();
    expect(await options.count()).toBe(2);
    expect(await page.locator('[role="group"][aria-label="fake"]').count()).toBe(1);
    const first = page.locator('[data-testid="model-option"][data-value="fake/fake-model"]');
    expect(await first.getAttribute("aria-selected")).toBe("true");
    expect(await first.getByTestId("model-option-context").textContent()).toBe("32k context");
    expect(await first.getByTestId("model-option-price").textContent()).toBe("$10.00 / $50.00 per M");
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-model-picker.png"), animations: "disabled" });
    await page.getByTestId("model-search").fill("model-2");
    await page.locator('[data-testid="model-option"]').nth(1).waitFor({ state: "detached" });
    expect(await options.count()).toBe(1);
    // Enter picks the one match; the model reasons, so the thinking level can be set.
    await page.getByTestId("model-search").press("Enter");
    await page.locator('[data-testid="model-picker"][data-value="fake/fake-model-2"]').waitFor();
    const thinking = page.getByTestId("thinking-level");
    await thinking.waitFor();
    await thinking.selectOption("high");
    await page.waitForFunction(
      () => document.querySelector<HTMLSelectElement>('[data-testid="thinking-level"]')?.value === "high",
    );

    // That model is not allowed for this user: the gateway refuses it and nothing is counted.
    const served = stack.fakeLlm.requests().length;
    await send("with the other model");
    const refusal = page.locator('[data-testid="chat-alert"][data-level="error"]', {
      hasText: "not allowed",
    });
    await refusal.waitFor();
    await idle();
    expect(stack.fakeLlm.requests().length).toBe(served);
    expect(Number(await usage.getAttribute("data-tokens"))).toBe(120);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-chat-usage.png"), animations: "disabled" });
  }, 90_000);

  test("the Usage page charts the day (uPlot loaded only there) with the per-user and per-model rows", async () => {
    const before = new Set(scripts);
    await page.getByTestId("admin-link").click();
    await page.waitForURL(/\/admin$/);
    expect(new Set(scripts)).toEqual(before);
    await page.getByTestId("admin-nav-usage").click();
    await page.waitForURL(/\/admin\/usage$/);

    await page.locator('[data-testid="usage-chart"][data-state="ready"] canvas').first().waitFor();
    const chunks = scripts.filter((path) => !before.has(path));
    expect(chunks.length).toBe(1);
    const chunk = await (await fetch(`${stack.baseUrl}${chunks[0]}`)).text();
    expect(chunk).toContain("u-legend");

    expect(await page.getByTestId("usage-total-requests").textContent()).toBe("1");
    expect(await page.getByTestId("usage-total-cost").textContent()).toBe("$0.002");
    const userRow = page.locator(`[data-testid="usage-user-row"][data-key="${adminId}"]`);
    expect(await userRow.locator("th").textContent()).toBe(stack.admin.username);
    expect(await userRow.getByTestId("usage-requests").textContent()).toBe("1");
    expect(Number(await userRow.getByTestId("usage-cost").getAttribute("data-usd"))).toBeCloseTo(
      COST_PER_ANSWER,
      9,
    );
    const modelUsage = page.locator('[data-testid="usage-model-row"][data-key="fake/fake-model"]');
    expect(await modelUsage.getByTestId("usage-requests").textContent()).toBe("1");
    expect(await modelUsage.getByTestId("usage-cost").textContent()).toBe("$0.002");
    expect(await page.getByTestId("usage-model-row").count()).toBe(1);
    await page.screenshot({
      path: join(OUTPUT_DIR, "ui-llm-usage.png"),
      animations: "disabled",
      fullPage: true,
    });

    // A range before today has nothing in it; the chart redraws for it.
    await page.getByTestId("usage-to").fill("2020-01-31");
    await page.getByTestId("usage-from").fill("2020-01-01");
    await page.getByText("No LLM requests in this period.").first().waitFor();
    await page.locator('[data-testid="usage-chart"][data-state="ready"] canvas').first().waitFor();
    expect(await page.getByTestId("usage-total-requests").textContent()).toBe("0");
  }, 60_000);

  test("the Account page shows the user's own usage this month, by model, and their limits", async () => {
    await page.goto(`${stack.baseUrl}/account`);
    const section = page.getByTestId("my-usage");
    await section.getByTestId("my-usage-month").waitFor();
    expect(await section.getByTestId("my-usage-month").getByTestId("usage-period-cost").textContent()).toBe(
      "$0.002",
    );
    expect(await section.getByTestId("my-usage-today").textContent()).toContain("1 request");
    const daily = section.locator('[data-testid="my-limit"][data-limit="Daily budget"]');
    expect(await daily.textContent()).toContain("$0.002 of $1.00");
    expect(await daily.locator("meter").getAttribute("value")).toBe(String(COST_PER_ANSWER));
    expect(await section.getByTestId("my-limits-models").textContent()).toBe("fake/fake-model");
    const row = section.locator('[data-testid="my-usage-model-row"][data-key="fake/fake-model"]');
    expect(await row.getByTestId("usage-requests").textContent()).toBe("1");
    await section.screenshot({ path: join(OUTPUT_DIR, "ui-llm-account-usage.png"), animations: "disabled" });
  }, 30_000);

  test("the Usage, Limits and Account pages and the chat header fit a 390 px screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const fitsWidth = () =>
      page.evaluate(() => {
        const main = document.querySelector("main");
        const tabs = document.querySelector(".admin-nav");
        return (
          document.documentElement.scrollWidth <= window.innerWidth &&
          (main === null || main.scrollWidth <= main.clientWidth) &&
          (tabs === null || tabs.scrollWidth <= tabs.clientWidth)
        );
      });
    await page.goto(`${stack.baseUrl}/admin/usage`);
    await page.locator('[data-testid="usage-chart"][data-state="ready"] canvas').first().waitFor();
    expect(await fitsWidth()).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-usage-phone.png"), animations: "disabled" });
    await page.goto(`${stack.baseUrl}/admin/limits`);
    await page.getByTestId("limits-row").first().waitFor();
    expect(await fitsWidth()).toBe(true);
    await page.goto(`${stack.baseUrl}/account`);
    await page.getByTestId("my-usage-month").waitFor();
    expect(await fitsWidth()).toBe(true);
    await page.goto(chatUrl);
    await page.getByTestId("context-gauge").waitFor();
    expect(await fitsWidth()).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-chat-phone.png"), animations: "disabled" });
  }, 60_000);
});
