import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { AuthRateLimiter, loginDelayMs, WindowCounter } from "../../src/server/auth/rate-limit.ts";
import { addUser, BASE, createTestServer, jsonInit, login, type TestServer } from "./helpers.ts";

let server: TestServer;
beforeEach(async () => {
  server = createTestServer();
  await addUser(server.store, "alice", "alice-password");
});
afterEach(() => server.close());

const loginBody = (password: string) => jsonInit("POST", { username: "alice", password });
/** Sends to the app as if over a socket from `address` (what clientIp reads from the Bun server). */
const fromClient = (address: string) => (init: RequestInit) =>
  server.app.request(`${BASE}/api/auth/login`, init, { requestIP: () => ({ address }) });

describe("login and setup rate limits", () => {
  test("the 11th request a minute from one IP is 429 with Retry-After (real socket)", async () => {
    const http = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req, srv) => server.app.fetch(req, srv),
    });
    try {
      const url = `http://127.0.0.1:${http.port}/api/auth`;
      // Requests count whatever their outcome; invalid bodies keep the test fast.
      for (let i = 0; i < 5; i += 1)
        expect((await fetch(`${url}/login`, jsonInit("POST", {}))).status).toBe(400);
      for (let i = 0; i < 5; i += 1)
        expect((await fetch(`${url}/setup`, jsonInit("POST", {}))).status).toBe(400);
      const limited = await fetch(`${url}/login`, loginBody("alice-password"));
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ code: "RATE_LIMITED" });
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // The limit is per client address: a request that does not come from 127.0.0.1 is still admitted.
      expect((await server.app.request(`${BASE}/api/auth/login`, loginBody("alice-password"))).status).toBe(
        200,
      );
    } finally {
      await http.stop(true);
    }
  });

  test("failures slow down only the client that made them: the owner elsewhere still signs in", async () => {
    const attacker = fromClient("203.0.113.7");
    for (let i = 0; i < 3; i += 1) expect((await attacker(loginBody("wrong-password"))).status).toBe(401);
    // The fourth failure is the first that costs a wait, and each one after it doubles.
    expect((await attacker(loginBody("wrong-password"))).status).toBe(401);
    const slowed = await attacker(loginBody("alice-password"));
    expect(slowed.status).toBe(429);
    expect(await slowed.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(slowed.headers.get("retry-after"))).toBe(2);
    // The real user, from their own client, is not locked out by the attacker's failures.
    expect((await fromClient("198.51.100.20")(loginBody("alice-password"))).status).toBe(200);
  });

  test("an admin lifts an account's delays for every client; others cannot", async () => {
    const limiter = server.auth.rateLimiter;
    for (let i = 0; i < 10; i += 1) limiter.recordFailure("alice", "203.0.113.7");
    expect(limiter.loginDelayFor("alice", "203.0.113.7")).toBeGreaterThan(60);
    await addUser(server.store, "root-admin", "admin-password", "admin");
    await addUser(server.store, "mallory", "mallory-password");
    const asUser = await login(server.app, "mallory", "mallory-password");
    const lift = (token: string) =>
      server.app.request(`${BASE}/api/admin/login-locks/alice`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await lift(asUser.token)).status).toBe(403);
    expect(limiter.loginDelayFor("alice", "203.0.113.7")).toBeGreaterThan(60);
    const asAdmin = await login(server.app, "root-admin", "admin-password");
    const lifted = await lift(asAdmin.token);
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toEqual({ cleared: 1 });
    expect((await fromClient("203.0.113.7")(loginBody("alice-password"))).status).toBe(200);
  });

  test("a successful login resets that client's failure count", async () => {
    const client = fromClient("192.0.2.5");
    for (let i = 0; i < 3; i += 1) await client(loginBody("wrong-password"));
    expect((await client(loginBody("alice-password"))).status).toBe(200);
    for (let i = 0; i < 3; i += 1) await client(loginBody("wrong-password"));
    expect((await client(loginBody("alice-password"))).status).toBe(200);
  });
});

describe("rate limiter internals", () => {
  test("windows expire", () => {
    const limiter = new AuthRateLimiter();
    for (let i = 0; i < 10; i += 1) expect(limiter.admitRequest("1.2.3.4", 1000)).toBe(0);
    expect(limiter.admitRequest("1.2.3.4", 1000)).toBe(60);
    expect(limiter.admitRequest("1.2.3.4", 30_999)).toBe(31);
    expect(limiter.admitRequest("5.6.7.8", 30_999)).toBe(0);
    expect(limiter.admitRequest("1.2.3.4", 61_000)).toBe(0);
    for (let i = 0; i < 4; i += 1) limiter.recordFailure("bob", "1.2.3.4", 0);
    expect(limiter.loginDelayFor("bob", "1.2.3.4", 0)).toBe(2);
    expect(limiter.loginDelayFor("bob", "1.2.3.4", 2000)).toBe(0);
    expect(limiter.loginDelayFor("bob", "5.6.7.8", 0)).toBe(0);
  });

  test("the delay grows with each failure, up to 15 minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 12, 13, 40].map((n) => loginDelayMs(n) / 1000)).toEqual([
      0, 0, 0, 2, 4, 8, 512, 900, 900,
    ]);
  });

  test("failure records stay bounded under a flood of distinct clients", () => {
    const limiter = new AuthRateLimiter(100);
    for (let i = 0; i < 20_000; i += 1) limiter.recordFailure("alice", `10.0.${i >> 8}.${i & 255}`, i);
    expect(limiter.clearUsername("alice")).toBe(100);
  });

  test("memory stays bounded under a flood of distinct keys", () => {
    const counter = new WindowCounter(5, 60_000, 100);
    for (let i = 0; i < 20_000; i += 1) counter.hit(`10.0.${i >> 8}.${i & 255}`, i);
    expect(counter.size).toBe(100);
    // The newest keys survive eviction.
    for (let i = 0; i < 4; i += 1) counter.hit("10.0.78.31", 20_000);
    expect(counter.blockedFor("10.0.78.31", 20_000)).toBeGreaterThan(0);
  });
});
