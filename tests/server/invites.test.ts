/** Invite codes (issue 12): admin REST, the codes' format and storage, and their atomic consumption. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { CreatedInvites, InviteCode } from "../../src/protocol/rest.ts";
import { normalizeInviteCode } from "../../src/server/accounts/secrets.ts";
import { sha256Hex } from "../../src/shared/sha256.ts";
import { addUser, BASE, bearer, createTestServer, jsonInit, login, type TestServer } from "./helpers.ts";

let server: TestServer;
let adminToken: string;
let userToken: string;

beforeEach(async () => {
  server = createTestServer();
  await addUser(server.store, "admin", "admin-password", "admin");
  await addUser(server.store, "alice", "alice-password");
  adminToken = (await login(server.app, "admin", "admin-password")).token;
  userToken = (await login(server.app, "alice", "alice-password")).token;
});
afterEach(() => server.close());

const url = (path = "") => `${BASE}/api/admin/invite-codes${path}`;
async function create(body: unknown) {
  const res = await server.app.request(url(), jsonInit("POST", body, bearer(adminToken)));
  expect(res.status).toBe(201);
  return CreatedInvites.parse(await res.json()).invites;
}
async function list(): Promise<InviteCode[]> {
  const res = await server.app.request(url(), { headers: bearer(adminToken) });
  return ((await res.json()) as { invites: unknown[] }).invites.map((i) => InviteCode.strict().parse(i));
}

describe("invite codes over REST", () => {
  test("one code: readable, shown once, stored as its hash", async () => {
    const [invite] = await create({ note: "for bob" });
    expect(invite?.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    expect(invite).toMatchObject({ max_uses: 1, uses: 0, remaining: 1, state: "active", note: "for bob" });
    expect(invite?.code.startsWith(invite.prefix)).toBe(true);
    const dump = JSON.stringify(server.store.db.query("SELECT * FROM invite_codes").all());
    expect(dump).not.toContain(invite?.code ?? "?");
    expect(dump).toContain(sha256Hex(normalizeInviteCode(invite?.code ?? "")));
    expect(JSON.stringify(await list())).not.toContain(invite?.code ?? "?");
  });

  test("a batch makes distinct codes with the same settings", async () => {
    const batch = await create({ count: 5, max_uses: 3, expires_in_s: 3600 });
    expect(new Set(batch.map((i) => i.code)).size).toBe(5);
    for (const invite of batch) {
      expect(invite).toMatchObject({ max_uses: 3, remaining: 3, state: "active" });
      expect(invite.expires_at).toBeGreaterThan(Date.now() + 3500_000);
    }
    expect(await list()).toHaveLength(5);
  });

  test("states: used up, expired, revoked; revoking twice or an unknown id is 404", async () => {
    const [used, expiring, revoked] = await create({ count: 3 });
    if (!used || !expiring || !revoked) throw new Error("expected three codes");
    expect(server.store.invites.consume(sha256Hex(normalizeInviteCode(used.code)))).not.toBeNull();
    server.store.db
      .query("UPDATE invite_codes SET expires_at = ? WHERE id = ?")
      .run(Date.now() - 1, expiring.id);
    const del = await server.app.request(url(`/${revoked.id}`), {
      method: "DELETE",
      headers: bearer(adminToken),
    });
    expect(del.status).toBe(204);
    const again = await server.app.request(url(`/${revoked.id}`), {
      method: "DELETE",
      headers: bearer(adminToken),
    });
    expect(again.status).toBe(404);
    const states = Object.fromEntries((await list()).map((i) => [i.id, [i.state, i.remaining]]));
    expect(states).toEqual({
      [used.id]: ["used_up", 0],
      [expiring.id]: ["expired", 0],
      [revoked.id]: ["revoked", 0],
    });
    for (const invite of [used, expiring, revoked])
      expect(server.store.invites.consume(sha256Hex(normalizeInviteCode(invite.code)))).toBeNull();
  });

  test("admins only; bad bodies are 400", async () => {
    const asUser = await server.app.request(url(), jsonInit("POST", {}, bearer(userToken)));
    expect(asUser.status).toBe(403);
    expect((await server.app.request(url(), { headers: bearer(userToken) })).status).toBe(403);
    for (const bad of [
      { max_uses: 0 },
      { count: 101 },
      { expires_in_s: -5 },
      { note: "" },
      { surprise: 1 },
      [],
    ]) {
      const res = await server.app.request(url(), jsonInit("POST", bad, bearer(adminToken)));
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
    expect(await list()).toEqual([]);
  });

  test("creating and revoking are audited", async () => {
    const [invite] = await create({ count: 1 });
    await server.app.request(url(`/${invite?.id}`), { method: "DELETE", headers: bearer(adminToken) });
    const actions = server.store.audit.list({ limit: 2 }).map((e) => e.action);
    expect(actions).toEqual(["admin.invite_revoke", "admin.invite_create"]);
  });
});

describe("consumption", () => {
  test("takes uses one at a time, never past max_uses, and gives one back", async () => {
    const [invite] = await create({ max_uses: 2 });
    const hash = sha256Hex(normalizeInviteCode(invite?.code ?? ""));
    const first = server.store.invites.consume(hash);
    expect(first?.uses).toBe(1);
    expect(server.store.invites.consume(hash)?.uses).toBe(2);
    expect(server.store.invites.consume(hash)).toBeNull();
    server.store.invites.release(first?.id ?? "");
    expect(server.store.invites.consume(hash)?.uses).toBe(2);
  });

  test("people may type it in any case, without dashes, with O for 0 and I or L for 1", () => {
    expect(normalizeInviteCode("abc0d-e1fgh")).toBe("ABC0DE1FGH");
    expect(normalizeInviteCode(" abcOd eIfgh ")).toBe("ABC0DE1FGH");
    expect(normalizeInviteCode("abcodelfgh")).toBe("ABC0DE1FGH");
  });
});
