import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { User } from "../../src/protocol/rest.ts";
import { mintSetupToken } from "../../src/server/auth/setup-token.ts";
import { addUser, BASE, bearer, createTestServer, jsonInit, type TestServer } from "./helpers.ts";

let server: TestServer;
beforeEach(() => {
  server = createTestServer();
});
afterEach(() => server.close());

const setupBody = (setup_token: string, username = "root-admin") => ({
  setup_token,
  username,
  password: "a-strong-password",
  email: "admin@example.com",
  display_name: "The Admin",
});

describe("first-admin setup", () => {
  test("GET /api/auth/setup reports whether setup is needed", async () => {
    const before = await server.app.request(`${BASE}/api/auth/setup`);
    expect(await before.json()).toEqual({ setup_required: true });
    await addUser(server.store, "admin", "a-strong-password", "admin");
    const after = await server.app.request(`${BASE}/api/auth/setup`);
    expect(await after.json()).toEqual({ setup_required: false });
  });

  test("the setup token creates the admin once (201 + token + cookie); a second setup is 409", async () => {
    const token = mintSetupToken(server.store) ?? "";
    const res = await server.app.request(`${BASE}/api/auth/setup`, jsonInit("POST", setupBody(token)));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; user: unknown };
    const user = User.parse(body.user);
    expect(user).toMatchObject({
      username: "root-admin",
      role: "admin",
      is_active: true,
      email: "admin@example.com",
      display_name: "The Admin",
    });
    expect(body.user).not.toHaveProperty("password_hash");
    expect(res.headers.get("set-cookie")).toContain(`auth_token=${body.token}`);

    const me = await server.app.request(`${BASE}/api/me`, { headers: bearer(body.token) });
    expect(((await me.json()) as { username: string }).username).toBe("root-admin");

    const again = await server.app.request(
      `${BASE}/api/auth/setup`,
      jsonInit("POST", setupBody(token, "second")),
    );
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "CONFLICT" });
    expect(server.store.users.byUsername("second")).toBeNull();
  });

  test("a wrong token is 403 and leaves the real token usable", async () => {
    const token = mintSetupToken(server.store) ?? "";
    const wrong = await server.app.request(
      `${BASE}/api/auth/setup`,
      jsonInit("POST", setupBody(`${token}x`)),
    );
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ error: "invalid or expired setup token", code: "FORBIDDEN" });
    expect(server.store.users.adminExists()).toBe(false);
    const right = await server.app.request(`${BASE}/api/auth/setup`, jsonInit("POST", setupBody(token)));
    expect(right.status).toBe(201);
  });

  test("an expired token is 403", async () => {
    const token = mintSetupToken(server.store, Date.now() - 25 * 3600 * 1000) ?? "";
    const res = await server.app.request(`${BASE}/api/auth/setup`, jsonInit("POST", setupBody(token)));
    expect(res.status).toBe(403);
  });

  test("a username taken by a CLI-created user is 409 and does not burn the token", async () => {
    await addUser(server.store, "root-admin", "whatever-password", "user");
    const token = mintSetupToken(server.store) ?? "";
    const taken = await server.app.request(`${BASE}/api/auth/setup`, jsonInit("POST", setupBody(token)));
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { error: string }).error).toContain("taken");
    const ok = await server.app.request(
      `${BASE}/api/auth/setup`,
      jsonInit("POST", setupBody(token, "other-admin")),
    );
    expect(ok.status).toBe(201);
  });

  test("a weak or whitespace-only password is 400 with the reason, and no admin is made", async () => {
    const token = mintSetupToken(server.store) ?? "";
    for (const [password, reason] of [
      ["        ", "the password is only whitespace"],
      ["12345678", "the password is too easy to guess: This is a heavily used password."],
      ["password", "the password is too easy to guess: This is a heavily used password."],
      ["admin2026", "the password is too easy to guess"],
    ] as const) {
      const res = await server.app.request(
        `${BASE}/api/auth/setup`,
        jsonInit("POST", { setup_token: token, username: "admin", password }),
      );
      expect(res.status).toBe(400);
      const body = (await res.json()) as {
        code: string;
        error: string;
        details: { issues: { path: string }[] };
      };
      expect(body.code).toBe("BAD_REQUEST");
      expect(body.error).toStartWith(reason);
      expect(body.details.issues[0]?.path).toBe("password");
    }
    expect(server.store.users.adminExists()).toBe(false);
  });

  test("invalid bodies are 400 with the zod issues in details", async () => {
    const token = mintSetupToken(server.store) ?? "";
    const res = await server.app.request(
      `${BASE}/api/auth/setup`,
      jsonInit("POST", { setup_token: token, username: "Bad Name", password: "short" }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; details: { issues: { path: string }[] } };
    expect(body.code).toBe("BAD_REQUEST");
    expect(body.details.issues.map((issue) => issue.path).sort()).toEqual(["password", "username"]);
    expect(server.store.users.adminExists()).toBe(false);
  });
});
