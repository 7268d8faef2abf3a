/**
 * The gateway's refusals as a user meets them, in a real browser against the whole product (serve, runner,
 * real pi, the fake LLM behind the gateway): a budget used up mid-session, a rate limit and a model not
 * allowed each end the turn at once with a plain message in the chat (what limit, how much was used, when
 * it resets), and the same session works again once the admin's limits allow it.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, newPage, OUTPUT_DIR, pickModel, signIn } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let browser: Browser;
let page: Page;
let adminId: string;
const pageErrors: string[] = [];

const asAdmin = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  ({ page } = await newPage(browser, pageErrors));
  await signIn(page, stack);
  adminId = ((await (await asAdmin("GET", "/api/me")).json()) as { id: string }).id;
  expect((await asAdmin("POST", "/api/workspaces", { name: "budget" })).status).toBe(201);
}, 90_000);

afterEach(() => expect(pageErrors.splice(0)).toEqual([]));

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const idle = () => page.locator('[data-testid="session-state"][data-state="idle"]').waitFor();

async function send(text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await input.fill(text);
  await input.press("Enter");
}

async function setLimits(limits: Record<string, unknown>): Promise<void> {
  expect((await asAdmin("PUT", `/api/admin/limits/user/${adminId}`, limits)).status).toBe(200);
}

/** The chat's newest error alert, once it shows `text`. */
async function refusal(text: string): Promise<string> {
  const alert = page.locator('[data-testid="chat-alert"][data-level="error"]', { hasText: text }).last();
  await alert.waitFor();
  return (await alert.textContent()) ?? "";
}

async function answered(text: string): Promise<void> {
  await page.locator('[data-role="assistant"] .markdown', { hasText: text }).waitFor();
  await idle();
}

test("over budget, over the rate, a model not allowed: a clear message at once, then the session works again", async () => {
  await page.goto(`${stack.baseUrl}/`);
  await page.getByTestId("workspace-item").filter({ hasText: "budget" }).click();
  await page.getByTestId("new-session").first().click();
  await page.waitForURL(/\/s\/oqto-[0-9a-f-]{36}$/);
  await idle();

  // A first answer: 100 + 20 tokens, counted by the gateway.
  stack.fakeLlm.script([{ text: "first answer" }]);
  await send("hello");
  await answered("first answer");

  // The daily token budget is below what was used: the next prompt is refused before any LLM call.
  await setLimits({ daily_tokens: 100 });
  const served = stack.fakeLlm.requests().length;
  const started = Date.now();
  await send("again");
  const budget = await refusal("budget");
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(budget).toContain("daily budget of 100 tokens is used up (120 used)");
  expect(budget).toMatch(/resets at 00:00 UTC \(in \d+ h \d+ min|\(in \d+ min/);
  await idle();
  expect(stack.fakeLlm.requests().length).toBe(served);
  await page.screenshot({ path: join(OUTPUT_DIR, "ui-llm-budget.png"), animations: "disabled" });

  // The admin raises the budget: the same session answers again.
  await setLimits({ daily_tokens: 1_000_000 });
  stack.fakeLlm.script([{ text: "budget raised" }]);
  await send("and now?");
  await answered("budget raised");

  // One request a minute, and one was just made: refused with how long to wait.
  await setLimits({ rpm: 1 });
  await send("quickly again");
  const rate = await refusal("per minute");
  expect(rate).toMatch(
    /limit of 1 requests per minute is reached \(\d+ in the last minute\); try again in \d+ s/,
  );
  await idle();
  await setLimits({});
  stack.fakeLlm.script([{ text: "rate lifted" }]);
  await send("now?");
  await answered("rate lifted");

  // Only the second model is allowed: the first is refused with the reason, the second answers.
  await setLimits({ models: ["fake/fake-model-2"] });
  await send("with the first model");
  const model = await refusal("not allowed");
  expect(model).toContain(
    "the model fake/fake-model is not allowed for your account (allowed: fake/fake-model-2)",
  );
  await idle();
  await pickModel(page, "fake/fake-model-2");
  stack.fakeLlm.script([{ text: "allowed model" }]);
  await send("with the second model");
  await answered("allowed model");
  expect((stack.fakeLlm.requests().at(-1) as { model?: string }).model).toBe("fake-model-2");
}, 120_000);
