import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { LimitsEntry, MyLimits, UsageReport } from "../../src/protocol/llm.ts";
import { usageDay } from "../../src/server/store/index.ts";
import { addUser, BASE, bearer, createTestServer, jsonInit, login, type TestServer } from "./helpers.ts";

let server: TestServer;
let adminToken: string;
let aliceToken: string;
let aliceId: string;
let bobId: string;
const today = usageDay(Date.now());

function spend(userId: string, model: string, input: number, output: number, cost: number, at = Date.now()) {
  server.store.llmUsage.record({
    userId,
    sessionId: `s-${userId}`,
    provider: "p",
    model,
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: cost,
    at,
  });
}

beforeEach(async () => {
  server = createTestServer();
  await addUser(server.store, "admin", "admin-password", "admin");
  aliceId = (await addUser(server.store, "alice", "alice-password")).id;
  bobId = (await addUser(server.store, "bobby", "bobby-password")).id;
  adminToken = (await login(server.app, "admin", "admin-password")).token;
  aliceToken = (await login(server.app, "alice", "alice-password")).token;
  spend(aliceId, "m1", 100, 10, 0.5);
  spend(aliceId, "m2", 50, 5, 0.25);
  spend(bobId, "m1", 1000, 100, 2);
  spend(bobId, "m1", 1, 1, 1, Date.parse("2026-01-15T12:00:00Z"));
});
afterEach(() => server.close());

const get = async (path: string, token: string) => {
  const res = await server.app.request(`${BASE}${path}`, { headers: bearer(token) });
  return { status: res.status, body: (await res.json()) as unknown };
};

describe("usage reports", () => {
  test("a user sees only their own usage; the admin sees everyone's, grouped as asked", async () => {
    const own = UsageReport.parse((await get("/api/usage?group=model", aliceToken)).body);
    expect(own.rows.map((row) => [row.key, row.requests, row.cost_usd])).toEqual([
      ["p/m1", 1, 0.5],
      ["p/m2", 1, 0.25],
    ]);
    expect(own.total).toMatchObject({ requests: 2, input_tokens: 150, output_tokens: 15, cost_usd: 0.75 });
    const byUser = UsageReport.parse((await get("/api/admin/usage?group=user", adminToken)).body);
    expect(byUser.rows.map((row) => [row.label, row.cost_usd])).toEqual([
      ["bobby", 2],
      ["alice", 0.75],
    ]);
    const byDay = UsageReport.parse(
      (await get("/api/admin/usage?group=day&from=2026-01-01&to=2026-12-31", adminToken)).body,
    );
    expect(byDay.rows.map((row) => row.key)).toEqual(["2026-01-15", today].filter((d) => d <= "2026-12-31"));
    expect((await get("/api/admin/usage", aliceToken)).status).toBe(403);
  });

  test("a user's limits and what they used today and this month", async () => {
    server.store.llmLimits.set("role", "user", { daily_budget_usd: 5, rpm: 10 });
    server.store.llmLimits.set("user", aliceId, { daily_budget_usd: 1 });
    const mine = MyLimits.parse((await get("/api/usage/limits", aliceToken)).body);
    expect(mine.limits).toEqual({ daily_budget_usd: 1, rpm: 10 });
    expect(mine.today.cost_usd).toBe(0.75);
  });

  test("bad queries are 400 with the field named", async () => {
    for (const query of [
      "group=week",
      "from=yesterday",
      "from=2026-02-01&to=2026-01-01",
      "extra=1",
      "from=1990-01-01&to=2026-01-01",
    ]) {
      const { status, body } = await get(`/api/usage?${query}`, aliceToken);
      expect(status).toBe(400);
      expect(body).toMatchObject({ code: "BAD_REQUEST" });
    }
  });
});

describe("admin limits", () => {
  const put = (path: string, body: unknown, token = adminToken) =>
    server.app.request(`${BASE}/api/admin/limits${path}`, jsonInit("PUT", body, bearer(token)));

  test("set, list, replace and clear limits per user and per role; audited", async () => {
    const set = await put(`/user/${aliceId}`, {
      monthly_budget_usd: 20,
      tpm: 50_000,
      models: ["p/m1", "p/*"],
    });
    expect(set.status).toBe(200);
    expect(LimitsEntry.parse(await set.json())).toMatchObject({ scope: "user", subject: aliceId });
    expect((await put("/role/user", { rpm: 5 })).status).toBe(200);
    const list = (await get("/api/admin/limits", adminToken)).body as unknown[];
    expect(list.map((entry) => LimitsEntry.parse(entry).scope)).toEqual(["role", "user"]);
    expect((await put(`/user/${aliceId}`, {})).status).toBe(200);
    expect(server.store.llmLimits.get("user", aliceId)?.limits).toEqual({});
    const cleared = await server.app.request(`${BASE}/api/admin/limits/role/user`, {
      method: "DELETE",
      headers: bearer(adminToken),
    });
    expect(cleared.status).toBe(204);
    expect(server.store.audit.list({ limit: 10 }).map((entry) => entry.action)).toContain("admin.limits_set");
  });

  test("bad scopes, unknown subjects and invalid bodies are refused; users may not", async () => {
    expect((await put("/team/x", { rpm: 1 })).status).toBe(400);
    expect((await put("/role/owner", { rpm: 1 })).status).toBe(404);
    expect((await put("/user/ghost", { rpm: 1 })).status).toBe(404);
    const bad = await put(`/user/${aliceId}`, { rpm: -1, daily_budget_usd: "lots", extra: true });
    expect(bad.status).toBe(400);
    expect((await put(`/user/${aliceId}`, { rpm: 1 }, aliceToken)).status).toBe(403);
    expect(server.store.llmLimits.list()).toEqual([]);
    const missing = await server.app.request(`${BASE}/api/admin/limits/user/${aliceId}`, {
      method: "DELETE",
      headers: bearer(adminToken),
    });
    expect(missing.status).toBe(404);
  });
});
