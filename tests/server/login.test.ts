import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { User } from "../../src/protocol/rest.ts";
import { addUser, BASE, bearer, createTestServer, jsonInit, login, type TestServer } from "./helpers.ts";

let server: TestServer;
beforeEach(async () => {
  server = createTestServer();
  await addUser(server.store, "alice", "alice-password");
});
afterEach(() => server.close());

function cookieAttributes(setCookie: string): string[] {
  return setCookie.split(";").map((part) => part.trim());
}

describe("login", () => {
  test("correct credentials: 200 {token, user}, cookie, last_login_at recorded", async () => {
    const res = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "alice", password: "alice-password" }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; user: unknown };
    const user = User.parse(body.user);
    expect(user.username).toBe("alice");
    expect(user.last_login_at).toBeNumber();
    expect(server.store.users.byUsername("alice")?.last_login_at).toBe(user.last_login_at ?? -1);
    const me = await server.app.request(`${BASE}/api/me`, { headers: bearer(body.token) });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);
  });

  test("wrong password and unknown user are the same 401", async () => {
    const wrong = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "alice", password: "not-her-password" }),
    );
    const unknown = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "nobody", password: "whatever-password" }),
    );
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const expected = { error: "invalid username or password", code: "UNAUTHORIZED" };
    expect(await wrong.json()).toEqual(expected);
    expect(await unknown.json()).toEqual(expected);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  test("an unknown user still pays for a password verification (timing)", async () => {
    const time = async (username: string) => {
      const started = performance.now();
      await server.app.request(
        `${BASE}/api/auth/login`,
        jsonInit("POST", { username, password: "guess-password" }),
      );
      return performance.now() - started;
    };
    await time("nobody"); // the dummy hash is computed on first use
    const known = Math.min(await time("alice"), await time("alice"));
    const unknown = Math.min(await time("nobody"), await time("nobody"));
    // Without the dummy verification an unknown user returns in well under a millisecond.
    expect(unknown).toBeGreaterThan(known * 0.5);
  });

  test("a deactivated user cannot log in", async () => {
    server.store.db.run("UPDATE users SET is_active = 0 WHERE username = 'alice'");
    const res = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "alice", password: "alice-password" }),
    );
    expect(res.status).toBe(401);
  });

  test("malformed JSON is 400 and a missing JSON content type is 415", async () => {
    const malformed = await server.app.request(`${BASE}/api/auth/login`, jsonInit("POST", "{username:"));
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toStartWith("malformed JSON body");
    const plain = await server.app.request(`${BASE}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ username: "alice", password: "alice-password" }),
    });
    expect(plain.status).toBe(415);
    expect(await plain.json()).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE" });
  });

  test("unknown body fields are rejected", async () => {
    const res = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "alice", password: "alice-password", admin: true }),
    );
    expect(res.status).toBe(400);
  });
});

describe("session cookie", () => {
  test("is HttpOnly, SameSite=Lax, Path=/, Max-Age=token_ttl, and not Secure over http", async () => {
    const { token, setCookie } = await login(server.app, "alice", "alice-password");
    const attributes = cookieAttributes(setCookie);
    expect(attributes[0]).toBe(`auth_token=${token}`);
    expect(attributes).toContain("HttpOnly");
    expect(attributes).toContain("SameSite=Lax");
    expect(attributes).toContain("Path=/");
    expect(attributes).toContain(`Max-Age=${server.config.auth.token_ttl_s}`);
    expect(attributes).not.toContain("Secure");
  });

  test("is Secure when the request came over https", async () => {
    const res = await server.app.request(
      "https://oqto.test/api/auth/login",
      jsonInit("POST", { username: "alice", password: "alice-password" }),
    );
    expect(cookieAttributes(res.headers.get("set-cookie") ?? "")).toContain("Secure");
  });

  test("secure_cookies = always / never override the request scheme", async () => {
    for (const [mode, expectSecure] of [
      ["always", true],
      ["never", false],
    ] as const) {
      const other = createTestServer(`\n[server]\nsecure_cookies = "${mode}"\n`);
      try {
        await addUser(other.store, "alice", "alice-password");
        const url = mode === "always" ? `${BASE}/api/auth/login` : "https://oqto.test/api/auth/login";
        const res = await other.app.request(
          url,
          jsonInit("POST", { username: "alice", password: "alice-password" }),
        );
        expect(cookieAttributes(res.headers.get("set-cookie") ?? "").includes("Secure")).toBe(expectSecure);
      } finally {
        other.close();
      }
    }
  });

  test("authenticates GET requests by itself", async () => {
    const { token } = await login(server.app, "alice", "alice-password");
    const me = await server.app.request(`${BASE}/api/me`, { headers: { cookie: `auth_token=${token}` } });
    expect(me.status).toBe(200);
  });

  test("logout answers 204 and clears the cookie", async () => {
    const res = await server.app.request(`${BASE}/api/auth/logout`, { method: "POST" });
    expect(res.status).toBe(204);
    const attributes = cookieAttributes(res.headers.get("set-cookie") ?? "");
    expect(attributes[0]).toBe("auth_token=");
    expect(attributes).toContain("Max-Age=0");
    expect(attributes).toContain("HttpOnly");
  });
});
