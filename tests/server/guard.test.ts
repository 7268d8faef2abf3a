import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { AllowedOrigins } from "../../src/server/auth/origin.ts";
import { MAX_JSON_BODY_BYTES } from "../../src/server/http-errors.ts";
import type { UserRecord } from "../../src/server/store/index.ts";
import {
  addUser,
  BASE,
  bearer,
  createTestServer,
  jsonInit,
  login,
  TEST_JWT_SECRET,
  type TestServer,
} from "./helpers.ts";

let server: TestServer;
let alice: UserRecord;
let token: string;

beforeEach(async () => {
  server = createTestServer(
    `\n[server]\npublic_url = "${BASE}/oqto"\nallowed_origins = ["https://ui.example.com"]\n`,
    (app) => {
      app.get("/api/boom", () => {
        throw new Error("secret internal detail");
      });
      app.post("/api/echo", (c) => c.json({ user: c.var.user.username }));
    },
  );
  alice = await addUser(server.store, "alice", "alice-password", "admin");
  token = (await login(server.app, "alice", "alice-password")).token;
});
afterEach(() => server.close());

/** Every authenticated route the app defines, with a valid body where one is needed. */
const PROTECTED: [string, string][] = [
  ["GET", "/api/me"],
  ["GET", "/api/admin/providers"],
  ["POST", "/api/admin/providers"],
  ["PUT", "/api/admin/providers/x"],
  ["DELETE", "/api/admin/providers/x"],
  ["GET", "/api/boom"],
  ["POST", "/api/echo"],
  ["GET", "/api/no-such-route"],
];

async function forge(claims: Record<string, unknown>, secret = TEST_JWT_SECRET, iat?: number, ttlS = 3600) {
  const issuedAt = iat ?? Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlS)
    .sign(new TextEncoder().encode(secret));
}

describe("authentication on protected routes", () => {
  test("every protected route is 401 without credentials", async () => {
    for (const [method, path] of PROTECTED) {
      const res = await server.app.request(`${BASE}${path}`, { method });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
      expect(await res.json()).toEqual({ error: "authentication required", code: "UNAUTHORIZED" });
    }
  });

  test("a tampered token is 401 everywhere", async () => {
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString(
      "base64url",
    );
    // alg "none" with no signature, and the role claim changed under the old signature.
    const noneHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const otherRole = claims.role === "admin" ? "user" : "admin";
    const raisedRole = Buffer.from(JSON.stringify({ ...claims, role: otherRole })).toString("base64url");
    const tampered = [
      `${header}.${forgedPayload}.${signature}`,
      `${noneHeader}.${payload}.`,
      `${noneHeader}.${raisedRole}.`,
      `${header}.${raisedRole}.${signature}`,
      `${token.slice(0, -2)}AA`,
      "not-a-jwt",
    ];
    for (const bad of tampered) {
      for (const [method, path] of PROTECTED) {
        const res = await server.app.request(`${BASE}${path}`, { method, headers: bearer(bad) });
        expect({ path, status: res.status }).toEqual({ path, status: 401 });
      }
    }
  });

  test("a token signed with another secret, an expired token, and a token from another issuer are 401", async () => {
    const claims = { sub: alice.id, role: "admin", tv: 0, iss: "oqto" };
    const tokens = [
      await forge(claims, "another-secret-another-secret-another-secret"),
      await forge(claims, TEST_JWT_SECRET, Math.floor(Date.now() / 1000) - 7200, 3600),
      await forge({ ...claims, iss: "someone" }),
      await forge({ sub: alice.id, iss: "oqto" }),
    ];
    for (const bad of tokens) {
      const res = await server.app.request(`${BASE}/api/me`, { headers: bearer(bad) });
      expect(res.status).toBe(401);
    }
    const good = await forge(claims);
    expect((await server.app.request(`${BASE}/api/me`, { headers: bearer(good) })).status).toBe(200);
  });

  test("bumping the user's token version revokes older tokens", async () => {
    expect((await server.app.request(`${BASE}/api/me`, { headers: bearer(token) })).status).toBe(200);
    server.store.db.query("UPDATE users SET tv = tv + 1 WHERE id = ?").run(alice.id);
    const res = await server.app.request(`${BASE}/api/me`, { headers: bearer(token) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid or expired token", code: "UNAUTHORIZED" });
    const fresh = (await login(server.app, "alice", "alice-password")).token;
    expect((await server.app.request(`${BASE}/api/me`, { headers: bearer(fresh) })).status).toBe(200);
  });

  test("deactivating or deleting the user revokes the token", async () => {
    server.store.db.query("UPDATE users SET is_active = 0 WHERE id = ?").run(alice.id);
    expect((await server.app.request(`${BASE}/api/me`, { headers: bearer(token) })).status).toBe(401);
    server.store.db.query("DELETE FROM users WHERE id = ?").run(alice.id);
    expect((await server.app.request(`${BASE}/api/me`, { headers: bearer(token) })).status).toBe(401);
  });

  test("a malformed Authorization header is 401 even with a valid cookie", async () => {
    const res = await server.app.request(`${BASE}/api/me`, {
      headers: { authorization: `Basic ${token}`, cookie: `auth_token=${token}` },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("malformed Authorization header");
  });

  test("?token= is not accepted on REST routes", async () => {
    const res = await server.app.request(`${BASE}/api/me?token=${token}`);
    expect(res.status).toBe(401);
  });

  test("the role comes from the database, not the token", async () => {
    server.store.db.query("UPDATE users SET role = 'user' WHERE id = ?").run(alice.id);
    const res = await server.app.request(`${BASE}/api/admin/providers`, { headers: bearer(token) });
    expect(res.status).toBe(403);
  });
});

describe("CSRF origin rule for cookie authentication", () => {
  const cookie = () => ({ cookie: `auth_token=${token}`, "content-type": "application/json" });

  test("cookie-authenticated unsafe requests need a same-origin or allowed Origin", async () => {
    const cases: [Record<string, string>, number][] = [
      [{}, 403],
      [{ origin: "https://evil.example.com" }, 403],
      [{ origin: "null" }, 403],
      [{ origin: "http://oqto.test.evil.com" }, 403],
      [{ origin: BASE }, 200],
      [{ origin: "https://ui.example.com" }, 200],
    ];
    for (const [origin, status] of cases) {
      const res = await server.app.request(`${BASE}/api/echo`, {
        method: "POST",
        headers: { ...cookie(), ...origin },
        body: "{}",
      });
      expect({ origin, status: res.status }).toEqual({ origin, status });
      if (status === 403) expect(await res.json()).toMatchObject({ code: "FORBIDDEN" });
    }
  });

  test("the request's own Host never makes its Origin allowed", async () => {
    const forged = await server.app.request("http://evil.example.com/api/echo", {
      method: "POST",
      headers: { ...cookie(), origin: "http://evil.example.com" },
      body: "{}",
    });
    expect(forged.status).toBe(403);
  });

  test("serve's own listening address is allowed once it listens, on its port only", () => {
    const origins = new AllowedOrigins(server.config);
    const probe = (origin: string) => origins.allows(new Request(`${BASE}/`, { headers: { origin } }));
    expect(probe("http://127.0.0.1:8123")).toBe(false);
    origins.addListener("127.0.0.1", 8123);
    expect(probe("http://127.0.0.1:8123")).toBe(true);
    expect(probe("http://localhost:8123")).toBe(true);
    expect(probe("http://[::1]:8123")).toBe(true);
    expect(probe("http://127.0.0.1:8124")).toBe(false);
    expect(probe("https://127.0.0.1:8123")).toBe(false);
    expect(probe(BASE)).toBe(true);
    expect(probe("https://ui.example.com")).toBe(true);
  });

  test("safe methods with a cookie and Bearer requests need no Origin", async () => {
    const get = await server.app.request(`${BASE}/api/me`, {
      headers: { ...cookie(), origin: "https://evil.example.com" },
    });
    expect(get.status).toBe(200);
    const post = await server.app.request(`${BASE}/api/echo`, {
      method: "POST",
      headers: { ...bearer(token), origin: "https://evil.example.com" },
    });
    expect(post.status).toBe(200);
  });
});

describe("authenticateRequest (WebSocket upgrade)", () => {
  const wsUrl = `${BASE}/api/ws/mux`;

  test("accepts Bearer, ?token= and an allowed-origin cookie", async () => {
    const viaBearer = await server.auth.authenticateRequest(new Request(wsUrl, { headers: bearer(token) }));
    expect(viaBearer?.user.username).toBe("alice");
    const viaQuery = await server.auth.authenticateRequest(new Request(`${wsUrl}?token=${token}`));
    expect(viaQuery?.user.id).toBe(alice.id);
    const viaCookie = await server.auth.authenticateRequest(
      new Request(wsUrl, { headers: { cookie: `auth_token=${token}`, origin: "https://ui.example.com" } }),
    );
    expect(viaCookie?.user.role).toBe("admin");
  });

  test("rejects a cookie without an allowed Origin, bad tokens and no credentials", async () => {
    const requests = [
      new Request(wsUrl, { headers: { cookie: `auth_token=${token}` } }),
      new Request(wsUrl, { headers: { cookie: `auth_token=${token}`, origin: "https://evil.example.com" } }),
      new Request(`${wsUrl}?token=garbage`),
      new Request(wsUrl, { headers: bearer("garbage") }),
      new Request(wsUrl, { headers: { authorization: "Token abc" } }),
      new Request(wsUrl),
    ];
    for (const req of requests) expect(await server.auth.authenticateRequest(req)).toBeNull();
  });

  test("rejects revoked tokens", async () => {
    server.store.db.query("UPDATE users SET tv = tv + 1 WHERE id = ?").run(alice.id);
    expect(await server.auth.authenticateRequest(new Request(`${wsUrl}?token=${token}`))).toBeNull();
  });
});

describe("error responses", () => {
  test("unknown /api route is a JSON 404 (authenticated)", async () => {
    const res = await server.app.request(`${BASE}/api/no-such-route`, { headers: bearer(token) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "no route for GET /api/no-such-route", code: "NOT_FOUND" });
  });

  test("an unhandled exception is a JSON 500 without internals", async () => {
    const originalError = console.error;
    console.error = () => {};
    try {
      const res = await server.app.request(`${BASE}/api/boom`, { headers: bearer(token) });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: "internal server error", code: "INTERNAL_ERROR" });
      expect(text).not.toContain("secret internal detail");
      expect(text).not.toContain("guard.test.ts");
    } finally {
      console.error = originalError;
    }
  });

  test("JSON bodies over 1 MiB are 413, whether declared or streamed", async () => {
    const big = JSON.stringify({ username: "alice", password: "x".repeat(MAX_JSON_BODY_BYTES) });
    const declared = await server.app.request(`${BASE}/api/auth/login`, jsonInit("POST", big));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_JSON_BODY_BYTES * 2) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await server.app.request(`${BASE}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    });
    expect(streamed.status).toBe(413);
    // The reader stopped soon after the limit instead of buffering the whole body.
    expect(sent).toBeLessThan(MAX_JSON_BODY_BYTES + 4 * chunk.byteLength);
  });

  test("a body that is not UTF-8 is 400", async () => {
    const res = await server.app.request(`${BASE}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("request body is not valid UTF-8");
  });

  test("health is public and reports the version", async () => {
    const res = await server.app.request(`${BASE}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: "9.9.9-test", multi_user: false });
  });

  test("non-API paths fall through to a plain 404 for the lead's UI routes", async () => {
    const res = await server.app.request(`${BASE}/some/page`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).not.toContain("json");
  });
});

describe("security headers", () => {
  test("every API answer, success or error, carries them; a route's own CSP is kept", async () => {
    const ok = await server.app.request(`${BASE}/api/health`);
    const unauthorized = await server.app.request(`${BASE}/api/me`);
    const invalid = await server.app.request(`${BASE}/api/auth/login`, jsonInit("POST", { username: 1 }));
    expect([ok.status, unauthorized.status, invalid.status]).toEqual([200, 401, 400]);
    for (const res of [ok, unauthorized, invalid]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    }
    const own = createTestServer("", (app) =>
      app.get("/api/own-csp", (c) => c.text("x", 200, { "content-security-policy": "sandbox" })),
    );
    try {
      await addUser(own.store, "carol", "carol-password");
      const { token } = await login(own.app, "carol", "carol-password");
      const res = await own.app.request(`${BASE}/api/own-csp`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.headers.get("content-security-policy")).toBe("sandbox");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    } finally {
      own.close();
    }
  });
});
