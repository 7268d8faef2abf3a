import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dataPaths } from "../../src/config/paths.ts";
import { hashSetupToken, mintSetupToken, SETUP_TOKEN_TTL_MS } from "../../src/server/auth/setup-token.ts";
import { openDatabase } from "../../src/server/store/database.ts";
import { openStore, type Store } from "../../src/server/store/index.ts";
import { MIGRATIONS, migrate } from "../../src/server/store/migrations.ts";

const dirs: string[] = [];
const stores: Store[] = [];
function freshStore(): { store: Store; dataDir: string } {
  const dir = mkdtempSync("/tmp/oqs-");
  dirs.push(dir);
  const dataDir = join(dir, "data");
  const store = openStore(dataDir);
  stores.push(store);
  return { store, dataDir };
}
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("platform database", () => {
  test("is created 0600 in a 0700 data dir, in WAL mode with foreign keys and a busy timeout", () => {
    const { store, dataDir } = freshStore();
    expect(statSync(dataPaths(dataDir).db).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(store.db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe(
      "wal",
    );
    expect(store.db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
    expect(store.db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout).toBe(5000);
  });

  test("records the schema version and reopening does not re-run migrations", () => {
    const { store, dataDir } = freshStore();
    const version = () =>
      store.db.query<{ version: number }, []>("SELECT version FROM schema_version").get()?.version;
    expect(version()).toBe(MIGRATIONS.length);
    store.users.create({ username: "keep", passwordHash: "x", role: "user" });
    const again = openStore(dataDir);
    stores.push(again);
    expect(again.users.byUsername("keep")?.username).toBe("keep");
    expect(again.db.query("SELECT COUNT(*) AS n FROM schema_version").get()).toEqual({ n: 1 });
  });

  test("applies only pending migrations, in order, and refuses a newer schema", () => {
    const db = new Database(":memory:", { strict: true });
    expect(migrate(db, ["CREATE TABLE a (x INTEGER)"])).toBe(1);
    expect(migrate(db, ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y INTEGER"])).toBe(2);
    db.run("INSERT INTO a (x, y) VALUES (1, 2)");
    expect(() => migrate(db, ["CREATE TABLE a (x INTEGER)"])).toThrow(
      /version 2, newer than this oqto understands \(1\)/,
    );
    db.close();
  });

  test("a failing migration rolls back and leaves the version unchanged", () => {
    const db = new Database(":memory:", { strict: true });
    migrate(db, ["CREATE TABLE a (x INTEGER)"]);
    expect(() =>
      migrate(db, ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y INTEGER); SELECT * FROM missing"]),
    ).toThrow();
    expect(db.query("SELECT version FROM schema_version").get()).toEqual({ version: 1 });
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeNull();
    db.close();
  });

  test("an existing file with loose permissions is tightened to 0600", () => {
    const dir = mkdtempSync("/tmp/oqs-");
    dirs.push(dir);
    const path = join(dir, "loose.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const db = openDatabase(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    db.close();
  });
});

describe("users", () => {
  test("create, look up, and refuse a duplicate username", () => {
    const { store } = freshStore();
    const alice = store.users.create(
      { username: "alice", passwordHash: "h", role: "admin", email: "a@x.io" },
      1000,
    );
    expect(alice).toMatchObject({
      username: "alice",
      role: "admin",
      is_active: true,
      tv: 0,
      created_at: 1000,
    });
    expect(alice?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(store.users.create({ username: "alice", passwordHash: "h2", role: "user" })).toBeNull();
    expect(store.users.byId(alice?.id ?? "")?.email).toBe("a@x.io");
    expect(store.users.byUsername("nobody")).toBeNull();
    expect(store.users.list().map((u) => u.username)).toEqual(["alice"]);
  });

  test("adminExists follows the admin rows and recordLogin stores the time", () => {
    const { store } = freshStore();
    expect(store.users.adminExists()).toBe(false);
    const bob = store.users.create({ username: "bob", passwordHash: "h", role: "user" });
    expect(store.users.adminExists()).toBe(false);
    store.users.create({ username: "root-admin", passwordHash: "h", role: "admin" });
    expect(store.users.adminExists()).toBe(true);
    store.users.recordLogin(bob?.id ?? "", 4242);
    expect(store.users.byUsername("bob")?.last_login_at).toBe(4242);
  });

  test("the schema rejects an unknown role", () => {
    const { store } = freshStore();
    expect(() =>
      store.db.run(
        "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ('1', 'x', 'h', 'root', 0)",
      ),
    ).toThrow(/CHECK constraint/);
  });
});

describe("setup tokens", () => {
  test("are stored hashed, single use, and expire after 24 h", () => {
    const { store } = freshStore();
    const now = 1_000_000;
    const token = mintSetupToken(store, now);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = store.db.query<{ token_hash: string }, []>("SELECT token_hash FROM setup_tokens").all();
    expect(stored).toEqual([{ token_hash: hashSetupToken(token ?? "") }]);
    expect(stored[0]?.token_hash).not.toContain(token ?? "");
    expect(store.setupTokens.consume(hashSetupToken(token ?? ""), now + SETUP_TOKEN_TTL_MS)).toBe(false);
    expect(store.setupTokens.consume(hashSetupToken(token ?? ""), now + SETUP_TOKEN_TTL_MS - 1)).toBe(true);
    expect(store.setupTokens.consume(hashSetupToken(token ?? ""), now)).toBe(false);
  });

  test("a new start supersedes the old token; none is minted once an admin exists", () => {
    const { store } = freshStore();
    const first = mintSetupToken(store) ?? "";
    const second = mintSetupToken(store) ?? "";
    expect(second).not.toBe(first);
    expect(store.setupTokens.consume(hashSetupToken(first))).toBe(false);
    expect(store.setupTokens.consume(hashSetupToken(second))).toBe(true);
    store.users.create({ username: "admin", passwordHash: "h", role: "admin" });
    expect(mintSetupToken(store)).toBeNull();
  });
});

describe("providers", () => {
  const sealed = new Uint8Array([1, 2, 3]);
  const body = {
    name: "local",
    api: "openai-completions" as const,
    base_url: "http://127.0.0.1:1/v1",
    api_key_sealed: sealed,
    models: [{ id: "m1" }, { id: "m2", context_window: 8192 }],
  };

  test("insert, list in creation order, update, delete", () => {
    const { store } = freshStore();
    expect(store.providers.insert(body, 10)).toEqual({ ...body, created_at: 10, updated_at: 10 });
    expect(store.providers.insert(body, 11)).toBeNull();
    store.providers.insert({ ...body, name: "another", api_key_sealed: null }, 20);
    expect(store.providers.list().map((p) => [p.name, p.api_key_sealed])).toEqual([
      ["local", sealed],
      ["another", null],
    ]);
    const updated = store.providers.update({ ...body, models: [{ id: "m3" }], api_key_sealed: null }, 30);
    expect(updated).toEqual({
      ...body,
      models: [{ id: "m3" }],
      api_key_sealed: null,
      created_at: 10,
      updated_at: 30,
    });
    expect(store.providers.update({ ...body, name: "ghost" })).toBeNull();
    expect(store.providers.delete("local")).toBe(true);
    expect(store.providers.delete("local")).toBe(false);
    expect(store.providers.get("local")).toBeNull();
  });

  test("a corrupted models column is reported, not passed on", () => {
    const { store } = freshStore();
    store.providers.insert(body);
    store.db.run(`UPDATE providers SET models = '[1, 2]'`);
    expect(() => store.providers.get("local")).toThrow(/not a JSON array of models/);
  });

  test("no plaintext key column is left: keys exist only sealed", () => {
    const { store } = freshStore();
    const columns = store.db.query("SELECT name FROM pragma_table_info('providers')").all() as {
      name: string;
    }[];
    expect(columns.map((c) => c.name)).not.toContain("api_key");
    expect(columns.map((c) => c.name)).toContain("api_key_sealed");
  });
});

describe("session ownership", () => {
  test("claimSession records a new id and returns the existing owner to everyone else", () => {
    const { store } = freshStore();
    const alice = store.users.create({ username: "alice", passwordHash: "h", role: "user" });
    const mallory = store.users.create({ username: "mallory", passwordHash: "h", role: "user" });
    const aliceId = alice?.id ?? "";
    const malloryId = mallory?.id ?? "";
    expect(store.sessions.claimSession("oqto-1", aliceId, "/w/a", 5)).toEqual({
      session_id: "oqto-1",
      user_id: aliceId,
      workspace_path: "/w/a",
      created_at: 5,
      claimed: true,
    });
    const stolen = store.sessions.claimSession("oqto-1", malloryId, "/w/m", 6);
    expect(stolen).toMatchObject({ user_id: aliceId, workspace_path: "/w/a", claimed: false });
    expect(store.sessions.claimSession("oqto-1", aliceId, "/w/a").claimed).toBe(false);
    expect(store.sessions.sessionOwner("oqto-1")).toBe(aliceId);
    expect(store.sessions.sessionOwner("oqto-unknown")).toBeNull();
  });

  test("listUserSessions returns only the user's sessions, newest first", () => {
    const { store } = freshStore();
    const a = store.users.create({ username: "alice", passwordHash: "h", role: "user" })?.id ?? "";
    const b = store.users.create({ username: "bobby", passwordHash: "h", role: "user" })?.id ?? "";
    store.sessions.claimSession("s1", a, "/w", 1);
    store.sessions.claimSession("s2", b, "/w", 2);
    store.sessions.claimSession("s3", a, "/w", 3);
    expect(store.sessions.listUserSessions(a).map((s) => s.session_id)).toEqual(["s3", "s1"]);
    expect(store.sessions.listUserSessions("nobody")).toEqual([]);
  });

  test("a session cannot belong to a user that does not exist (foreign key)", () => {
    const { store } = freshStore();
    expect(() => store.sessions.claimSession("s1", "no-such-user", "/w")).toThrow(/FOREIGN KEY/);
  });

  test("the user lookup is indexed", () => {
    const { store } = freshStore();
    const plan = store.db
      .query<{ detail: string }, []>(
        "EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE user_id = 'x' ORDER BY created_at DESC",
      )
      .all();
    expect(plan.map((row) => row.detail).join(" ")).toContain("sessions_user");
  });
});
