/**
 * Accounts over REST (issue 12): the caller's profile, password and personal API keys; the admin's
 * user management and the audit log. Revocations take effect on the next request and close the
 * user's WebSockets (`closedSockets` records what the app asked the mux to close).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ApiKey, AuditPage, CreatedApiKey, User } from "../../src/protocol/rest.ts";
import type { UserRecord } from "../../src/server/store/index.ts";
import { addUser, BASE, bearer, createTestServer, jsonInit, login, type TestServer } from "./helpers.ts";

const STRONG = "tangerine-orbit-lamp-42";
let server: TestServer;
let admin: UserRecord;
let alice: UserRecord;
let adminToken: string;
let aliceToken: string;

beforeEach(async () => {
  server = createTestServer();
  admin = await addUser(server.store, "admin", "admin-password", "admin");
  alice = await addUser(server.store, "alice", "alice-password");
  adminToken = (await login(server.app, "admin", "admin-password")).token;
  aliceToken = (await login(server.app, "alice", "alice-password")).token;
});
afterEach(() => server.close());

const call = (token: string, method: string, path: string, body?: unknown) =>
  server.app.request(
    `${BASE}${path}`,
    body === undefined ? { method, headers: bearer(token) } : jsonInit(method, body, bearer(token)),
  );
const status = async (token: string, method: string, path: string, body?: unknown) =>
  (await call(token, method, path, body)).status;

describe("my account", () => {
  test("PUT /api/me changes and clears the profile; bad bodies are 400", async () => {
    const res = await call(aliceToken, "PUT", "/api/me", {
      display_name: "Alice A.",
      email: "a@example.com",
    });
    expect(res.status).toBe(200);
    expect(User.parse(await res.json())).toMatchObject({ display_name: "Alice A.", email: "a@example.com" });
    const cleared = User.parse(await (await call(aliceToken, "PUT", "/api/me", { email: null })).json());
    expect(cleared.email).toBeUndefined();
    expect(cleared.display_name).toBe("Alice A.");
    for (const bad of [{}, { role: "admin" }, { email: "not-an-email" }, { display_name: "  " }, []])
      expect(await status(aliceToken, "PUT", "/api/me", bad)).toBe(400);
    expect(server.store.users.byId(alice.id)?.role).toBe("user");
  });

  test("a password change needs the current one, refuses a weak one, and signs out everywhere else", async () => {
    const other = (await login(server.app, "alice", "alice-password")).token;
    const wrong = await call(aliceToken, "POST", "/api/me/password", {
      current_password: "nope",
      new_password: STRONG,
    });
    expect(wrong.status).toBe(403);
    const weak = await call(aliceToken, "POST", "/api/me/password", {
      current_password: "alice-password",
      new_password: "password",
    });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { details: { issues: { code: string }[] } }).details.issues[0]?.code).toBe(
      "weak_password",
    );
    const changed = await call(aliceToken, "POST", "/api/me/password", {
      current_password: "alice-password",
      new_password: STRONG,
    });
    expect(changed.status).toBe(200);
    const { token } = (await changed.json()) as { token: string };
    expect(changed.headers.get("set-cookie")).toContain("auth_token=");
    expect(await status(token, "GET", "/api/me")).toBe(200);
    expect(await status(aliceToken, "GET", "/api/me")).toBe(401);
    expect(await status(other, "GET", "/api/me")).toBe(401);
    expect(server.closedSockets).toEqual([alice.id]);
    await login(server.app, "alice", STRONG);
  });
});

describe("personal API keys", () => {
  async function createKey(token: string, body: unknown = { name: "ci" }) {
    const res = await call(token, "POST", "/api/keys", body);
    expect(res.status).toBe(201);
    return CreatedApiKey.parse(await res.json());
  }

  test("shown once, stored hashed, usable as Bearer, last use recorded", async () => {
    const created = await createKey(aliceToken);
    expect(created.key).toMatch(/^oqto_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const dump = JSON.stringify(server.store.db.query("SELECT * FROM api_keys").all());
    expect(dump).not.toContain(created.key);
    expect(dump).toContain(new Bun.CryptoHasher("sha256").update(created.key).digest("hex"));

    const me = await call(created.key, "GET", "/api/me");
    expect(me.status).toBe(200);
    expect(User.parse(await me.json()).username).toBe("alice");
    const listed = (await (await call(aliceToken, "GET", "/api/keys")).json()) as { keys: unknown[] };
    expect(listed.keys).toHaveLength(1);
    const key = ApiKey.strict().parse(listed.keys[0]);
    expect(key.last_used_at).toBeGreaterThan(0);
    expect(JSON.stringify(listed)).not.toContain(created.key);
  });

  test("another user's key is 404 to delete and invisible; a deleted, expired or deactivated key is 401", async () => {
    const created = await createKey(aliceToken);
    expect(await status(adminToken, "DELETE", `/api/keys/${created.id}`)).toBe(404);
    expect(((await (await call(adminToken, "GET", "/api/keys")).json()) as { keys: unknown[] }).keys).toEqual(
      [],
    );
    expect(await status(created.key, "GET", "/api/me")).toBe(200);
    expect(await status(aliceToken, "DELETE", `/api/keys/${created.id}`)).toBe(204);
    expect(await status(created.key, "GET", "/api/me")).toBe(401);
    expect(await status(aliceToken, "DELETE", `/api/keys/${created.id}`)).toBe(404);

    const expiring = await createKey(aliceToken, { name: "short", expires_in_s: 60 });
    expect(expiring.expires_at).toBeGreaterThan(Date.now());
    expect(await status(expiring.key, "GET", "/api/me")).toBe(200);
    server.store.db.query("UPDATE api_keys SET expires_at = ? WHERE id = ?").run(Date.now() - 1, expiring.id);
    expect(await status(expiring.key, "GET", "/api/me")).toBe(401);

    const live = await createKey(aliceToken);
    expect(await status(adminToken, "PATCH", `/api/admin/users/${alice.id}`, { is_active: false })).toBe(200);
    expect(await status(live.key, "GET", "/api/me")).toBe(401);
    expect(await status("oqto_not-a-key", "GET", "/api/me")).toBe(401);
  });

  test("bad bodies are 400", async () => {
    for (const bad of [
      {},
      { name: "" },
      { name: "x", expires_in_s: -1 },
      { name: "x", extra: 1 },
      { name: 5 },
    ])
      expect(await status(aliceToken, "POST", "/api/keys", bad)).toBe(400);
  });
});

describe("admin: users", () => {
  test("only admins manage users", async () => {
    for (const [method, path] of [
      ["GET", "/api/admin/users"],
      ["POST", "/api/admin/users"],
      ["PATCH", `/api/admin/users/${admin.id}`],
      ["POST", `/api/admin/users/${admin.id}/password`],
      ["DELETE", `/api/admin/users/${admin.id}`],
      ["GET", "/api/admin/audit"],
    ] as const)
      expect({ method, path, status: await status(aliceToken, method, path) }).toEqual({
        method,
        path,
        status: 403,
      });
    expect(server.store.users.byId(admin.id)?.is_active).toBe(true);
  });

  test("create, list, deactivate and reactivate, change role, reset password, delete", async () => {
    const weak = await call(adminToken, "POST", "/api/admin/users", {
      username: "bob",
      password: "12345678",
    });
    expect(weak.status).toBe(400);
    const created = await call(adminToken, "POST", "/api/admin/users", { username: "bob", password: STRONG });
    expect(created.status).toBe(201);
    const bob = User.parse(await created.json());
    expect(bob.role).toBe("user");
    expect(await status(adminToken, "POST", "/api/admin/users", { username: "bob", password: STRONG })).toBe(
      409,
    );
    expect(await status(adminToken, "POST", "/api/admin/users", { username: "B!", password: STRONG })).toBe(
      400,
    );
    const list = (await (await call(adminToken, "GET", "/api/admin/users")).json()) as { users: User[] };
    expect(list.users.map((u) => u.username)).toEqual(["admin", "alice", "bob"]);

    const bobToken = (await login(server.app, "bob", STRONG)).token;
    expect(await status(adminToken, "PATCH", `/api/admin/users/${bob.id}`, { is_active: false })).toBe(200);
    expect(await status(bobToken, "GET", "/api/me")).toBe(401);
    expect(server.closedSockets).toContain(bob.id);
    const refused = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "bob", password: STRONG }),
    );
    expect(refused.status).toBe(401);
    expect(await status(adminToken, "PATCH", `/api/admin/users/${bob.id}`, { is_active: true })).toBe(200);

    const promoted = await call(adminToken, "PATCH", `/api/admin/users/${bob.id}`, { role: "admin" });
    expect(User.parse(await promoted.json()).role).toBe("admin");
    const bobAdmin = (await login(server.app, "bob", STRONG)).token;
    expect(await status(bobAdmin, "GET", "/api/admin/users")).toBe(200);

    expect(
      await status(adminToken, "POST", `/api/admin/users/${bob.id}/password`, { password: "password" }),
    ).toBe(400);
    const reset = "violet-harbor-engine-77";
    expect(await status(adminToken, "POST", `/api/admin/users/${bob.id}/password`, { password: reset })).toBe(
      204,
    );
    expect(await status(bobAdmin, "GET", "/api/me")).toBe(401);
    await login(server.app, "bob", reset);

    expect(await status(adminToken, "DELETE", `/api/admin/users/${bob.id}`)).toBe(204);
    expect(server.store.users.byId(bob.id)).toBeNull();
    expect(await status(adminToken, "DELETE", `/api/admin/users/${bob.id}`)).toBe(404);
    for (const bad of [{}, { is_active: "no" }, { role: "root" }])
      expect(await status(adminToken, "PATCH", `/api/admin/users/${alice.id}`, bad)).toBe(400);
    expect(await status(adminToken, "PATCH", "/api/admin/users/no-such-id", { is_active: false })).toBe(404);
  });

  test("the last active admin cannot be demoted, deactivated or deleted", async () => {
    for (const [method, body] of [
      ["PATCH", { role: "user" }],
      ["PATCH", { is_active: false }],
      ["DELETE", undefined],
    ] as const) {
      const res = await call(adminToken, method, `/api/admin/users/${admin.id}`, body);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: string }).error).toContain("last active admin");
    }
    expect(server.store.users.byId(admin.id)).toMatchObject({ role: "admin", is_active: true });
    // With a second admin, the first may step down.
    await call(adminToken, "PATCH", `/api/admin/users/${alice.id}`, { role: "admin" });
    expect(await status(adminToken, "PATCH", `/api/admin/users/${admin.id}`, { role: "user" })).toBe(200);
  });
});

describe("admin: audit log", () => {
  test("records admin actions newest first, pages by id, filters by action, and is append-only", async () => {
    await call(adminToken, "POST", "/api/admin/users", { username: "carol", password: STRONG });
    const carol = server.store.users.byUsername("carol");
    await call(adminToken, "PATCH", `/api/admin/users/${carol?.id}`, { role: "admin" });
    await call(aliceToken, "POST", "/api/keys", { name: "laptop" });
    await call(adminToken, "DELETE", "/api/admin/login-locks/alice");

    const page = AuditPage.parse(await (await call(adminToken, "GET", "/api/admin/audit?limit=2")).json());
    expect(page.entries.map((e) => e.action)).toEqual(["admin.login_lock_lift", "account.key_create"]);
    expect(page.entries[1]).toMatchObject({ actor_name: "alice", detail: { name: "laptop" } });
    expect(page.next_before).toBe(page.entries[1]?.id);
    const next = AuditPage.parse(
      await (await call(adminToken, "GET", `/api/admin/audit?limit=2&before=${page.next_before}`)).json(),
    );
    expect(next.entries.map((e) => [e.action, e.target])).toEqual([
      ["admin.user_update", "carol"],
      ["admin.user_create", "carol"],
    ]);
    expect(next.entries[0]).toMatchObject({ actor_name: "admin", detail: { role: "admin" } });
    const filtered = AuditPage.parse(
      await (await call(adminToken, "GET", "/api/admin/audit?action=admin.user_create")).json(),
    );
    expect(filtered.entries.map((e) => e.target)).toEqual(["carol"]);
    expect(filtered.next_before).toBeUndefined();

    for (const query of ["limit=0", "limit=x", "before=-1", "action=DROP%20TABLE", "surprise=1"])
      expect(await status(adminToken, "GET", `/api/admin/audit?${query}`)).toBe(400);
    expect(() => server.store.db.run("DELETE FROM audit_log")).toThrow("append-only");
    expect(() => server.store.db.run("UPDATE audit_log SET action = 'x'")).toThrow("append-only");
  });
});

describe("sign-out", () => {
  test("logout revokes every token of the user at once and closes their WebSockets", async () => {
    const second = (await login(server.app, "alice", "alice-password")).token;
    const out = await server.app.request(`${BASE}/api/auth/logout`, {
      method: "POST",
      headers: bearer(aliceToken),
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(await status(aliceToken, "GET", "/api/me")).toBe(401);
    expect(await status(second, "GET", "/api/me")).toBe(401);
    expect(server.closedSockets).toEqual([alice.id]);
    expect(await status(adminToken, "GET", "/api/me")).toBe(200);
    // Signed out already, or never signed in: still 204, nothing revoked.
    const anonymous = await server.app.request(`${BASE}/api/auth/logout`, { method: "POST" });
    expect(anonymous.status).toBe(204);
    expect(server.closedSockets).toEqual([alice.id]);
  });

  test("a cookie from another origin signs nobody out", async () => {
    const res = await server.app.request(`${BASE}/api/auth/logout`, {
      method: "POST",
      headers: { cookie: `auth_token=${aliceToken}`, origin: "https://evil.example.com" },
    });
    expect(res.status).toBe(204);
    expect(await status(aliceToken, "GET", "/api/me")).toBe(200);
  });

  test("logins, failures, delays and sign-outs are audited with the client's address", async () => {
    // Three failures are free; the fourth makes this client wait.
    for (let i = 0; i < 4; i++)
      await server.app.request(
        `${BASE}/api/auth/login`,
        jsonInit("POST", { username: "alice", password: "wrong" }),
      );
    const delayed = await server.app.request(
      `${BASE}/api/auth/login`,
      jsonInit("POST", { username: "alice", password: "alice-password" }),
    );
    expect(delayed.status).toBe(429);
    await server.app.request(`${BASE}/api/auth/logout`, { method: "POST", headers: bearer(adminToken) });
    const fresh = (await login(server.app, "admin", "admin-password")).token;
    const page = AuditPage.parse(await (await call(fresh, "GET", "/api/admin/audit?limit=9")).json());
    expect(page.entries.map((e) => [e.action, e.target, e.actor_name])).toEqual([
      ["auth.login", "admin", "admin"],
      ["auth.logout", "admin", "admin"],
      ["auth.login_delayed", "alice", undefined],
      ...Array(4).fill(["auth.login_failure", "alice", undefined]),
      ["auth.login", "alice", "alice"],
      ["auth.login", "admin", "admin"],
    ]);
    expect(page.entries.every((e) => e.ip === "unknown")).toBe(true);
  });
});

describe("deleting with the data", () => {
  test("needs multi-user mode: single-user accounts share one Linux user's files", async () => {
    const res = await call(adminToken, "DELETE", `/api/admin/users/${alice.id}?remove_data=1`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("multi-user mode");
    expect(server.store.users.byId(alice.id)).not.toBeNull();
    expect(await status(adminToken, "DELETE", `/api/admin/users/${alice.id}?remove_data=maybe`)).toBe(400);
    expect(await status(adminToken, "DELETE", `/api/admin/users/${alice.id}?remove_data=0`)).toBe(204);
  });
});

describe("registration", () => {
  test("needs multi-user mode, and says so", async () => {
    const res = await server.app.request(
      `${BASE}/api/auth/register`,
      jsonInit("POST", { username: "newbie", password: STRONG, invite_code: "ABCDE-FGHJK" }),
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain("multi-user mode");
    expect(server.store.users.byUsername("newbie")).toBeNull();
  });
});
