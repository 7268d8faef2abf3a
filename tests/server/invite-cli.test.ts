import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDuration, runInviteCommand } from "../../src/cli/invite.ts";
import { normalizeInviteCode } from "../../src/server/accounts/secrets.ts";
import { openStore } from "../../src/server/store/index.ts";
import { sha256Hex } from "../../src/shared/sha256.ts";

let dir: string;
let common: string[];

beforeEach(() => {
  dir = mkdtempSync("/tmp/oqi-");
  writeFileSync(join(dir, "config.toml"), "");
  common = ["--config", join(dir, "config.toml"), "--data-dir", join(dir, "data")];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runInviteCommand([...args, ...common], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  return { code, out, err: err.join("\n") };
}

test("create prints each code once; list shows prefixes and states; revoke", async () => {
  const created = await run(["create", "--count", "3", "--uses", "2", "--expires", "7d", "--note", "team"]);
  expect(created.code).toBe(0);
  expect(created.out).toHaveLength(3);
  // This config is single-user: the codes are made, and the command says where they work.
  expect(created.err).toContain("registration needs multi-user mode");
  for (const code of created.out) expect(code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);

  const store = openStore(join(dir, "data"));
  try {
    const consumed = store.invites.consume(sha256Hex(normalizeInviteCode(created.out[0] ?? "")));
    expect(consumed).toMatchObject({ max_uses: 2, note: "team" });
    expect((consumed?.expires_at ?? 0) - Date.now()).toBeGreaterThan(7 * 86400_000 - 60_000);
    expect(store.audit.list({ limit: 1 })[0]).toMatchObject({ action: "admin.invite_create" });
  } finally {
    store.close();
  }

  const listed = await run(["list"]);
  expect(listed.out[0]).toMatch(/^ID\s+CODE\s+STATE\s+USES\s+EXPIRES\s+NOTE$/);
  expect(listed.out).toHaveLength(4);
  expect(listed.out.join("\n")).not.toContain(created.out[0] ?? "?");
  expect(listed.out.filter((line) => / 1\/2 /.test(line))).toHaveLength(1);

  const id = listed.out[1]?.split(/\s+/)[0] ?? "";
  expect(await run(["revoke", id])).toMatchObject({ code: 0, out: [`revoked ${id}`] });
  expect((await run(["revoke", id])).code).toBe(1);
  expect((await run(["list"])).out.join("\n")).toContain("revoked");
});

test("bad values and usage are clear", async () => {
  expect((await run(["create", "--uses", "0"])).err).toContain("max_uses");
  expect((await run(["create", "--expires", "soon"])).err).toContain("not a duration");
  expect((await run(["create", "--count", "2.5"])).err).toContain("--count must be a whole number");
  expect((await run(["list", "--note", "x"])).code).toBe(2);
  expect((await run(["revoke"])).code).toBe(2);
  expect((await run(["bogus"])).code).toBe(2);
  expect((await run(["list"])).out).toEqual(["no invite codes"]);
  expect(parseDuration("90m")).toBe(5400);
});
