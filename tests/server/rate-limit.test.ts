import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { AuthRateLimiter, WindowCounter } from "../../src/server/auth/rate-limit.ts";
import { addUser, BASE, createTestServer, jsonInit, type TestServer } from "./helpers.ts";

let server: TestServer;
beforeEach(async () => {
  server = createTestServer();
  await addUser(server.store, "alice", "alice-password");
});
afterEach(() => server.close());

const loginBody = (password: string) => jsonInit("POST", { username: "alice", password });

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

  test("5 failed logins lock the username for 15 minutes, even for the right password", async () => {
    for (let i = 0; i < 5; i += 1) {
      expect((await server.app.request(`${BASE}/api/auth/login`, loginBody("wrong-password"))).status).toBe(
        401,
      );
    }
    const locked = await server.app.request(`${BASE}/api/auth/login`, loginBody("alice-password"));
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  });

  test("a successful login resets the username's failure count", async () => {
    for (let i = 0; i < 4; i += 1)
      await server.app.request(`${BASE}/api/auth/login`, loginBody("wrong-password"));
    expect((await server.app.request(`${BASE}/api/auth/login`, loginBody("alice-password"))).status).toBe(
      200,
    );
    for (let i = 0; i < 3; i += 1)
      await server.app.request(`${BASE}/api/auth/login`, loginBody("wrong-password"));
    expect((await server.app.request(`${BASE}/api/auth/login`, loginBody("alice-password"))).status).toBe(
      200,
    );
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
    for (let i = 0; i < 5; i += 1) limiter.recordFailure("bob", 0);
    expect(limiter.usernameLockedFor("bob", 1)).toBe(900);
    expect(limiter.usernameLockedFor("bob", 900_000)).toBe(0);
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
