import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runUserCommand, type UserCommandIo } from "../../src/cli/user.ts";
import { checkPassword } from "../../src/server/auth/passwords.ts";
import { mintSetupToken } from "../../src/server/auth/setup-token.ts";
import { openStore } from "../../src/server/store/index.ts";
import { runProcess } from "../helpers/run-process.ts";

let dir: string;
let common: string[];
let dataDir: string;

beforeEach(() => {
  dir = mkdtempSync("/tmp/oqu-");
  dataDir = join(dir, "data");
  writeFileSync(join(dir, "config.toml"), "");
  common = ["--config", join(dir, "config.toml"), "--data-dir", dataDir];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command in-process with `stdin` as its standard input; captures what it prints. */
async function run(args: string[], stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  let stdinRead = false;
  const io: UserCommandIo = {
    readStdin: async () => {
      stdinRead = true;
      return stdin;
    },
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  };
  const code = await runUserCommand([...args, ...common], io);
  return { code, out: out.join("\n"), err: err.join("\n"), stdinRead };
}

function withStore<T>(fn: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore(dataDir);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

describe("oqto user add", () => {
  test("creates an admin offline from the password on stdin and retires setup tokens", async () => {
    withStore((store) => mintSetupToken(store));
    const result = await run(["add", "root-admin", "--admin", "--password-stdin"], "first-password\n");
    expect(result).toMatchObject({ code: 0, err: "" });
    expect(result.out).toMatch(/^created admin 'root-admin' \(id [0-9a-f-]{36}\)$/);
    const user = withStore((store) => {
      expect(store.db.query("SELECT COUNT(*) AS n FROM setup_tokens").get()).toEqual({ n: 0 });
      return store.users.byUsername("root-admin");
    });
    expect(user?.role).toBe("admin");
    expect(user?.password_hash).toStartWith("$argon2id$");
    // Only the trailing newline is stripped.
    expect(await checkPassword("first-password", user?.password_hash ?? null)).toBe(true);
  });

  test("creates a regular user without --admin, accepting CRLF input", async () => {
    const result = await run(["add", "alice", "--password-stdin"], "alice-password\r\n");
    expect(result.code).toBe(0);
    const user = withStore((store) => store.users.byUsername("alice"));
    expect(user?.role).toBe("user");
    expect(await checkPassword("alice-password", user?.password_hash ?? null)).toBe(true);
  });

  test("refuses an existing user without touching it", async () => {
    await run(["add", "alice", "--password-stdin"], "alice-password\n");
    const before = withStore((store) => store.users.byUsername("alice"));
    const again = await run(["add", "alice", "--admin", "--password-stdin"], "other-password\n");
    expect(again.code).toBe(1);
    expect(again.err).toBe("oqto user add: user 'alice' already exists");
    expect(withStore((store) => store.users.byUsername("alice"))).toEqual(before);
  });

  test("refuses an invalid username before reading the password", async () => {
    for (const name of ["Alice", "_ab", "1abc", "a".repeat(28), "bad name"]) {
      const result = await run(["add", name, "--password-stdin"], "alice-password\n");
      expect(result.code).toBe(1);
      expect(result.err).toStartWith(
        `oqto user add: invalid username '${name}': usernames are 1-27 characters`,
      );
      expect(result.stdinRead).toBe(false);
    }
    expect(withStore((store) => store.users.list())).toEqual([]);
  });

  test("refuses a short, empty or multi-line password", async () => {
    const short = await run(["add", "alice", "--password-stdin"], "short\n");
    expect(short).toMatchObject({ code: 1, err: "oqto user add: invalid password: at least 8 characters" });
    const empty = await run(["add", "alice", "--password-stdin"], "");
    expect(empty.code).toBe(1);
    const multi = await run(["add", "alice", "--password-stdin"], "long-enough\nsecond line\n");
    expect(multi).toMatchObject({
      code: 1,
      err: "oqto user add: the password on stdin must be a single line",
    });
    expect(withStore((store) => store.users.list())).toEqual([]);
  });

  test("refuses a weak or whitespace-only password with the reason", async () => {
    for (const weak of ["password", "12345678", "qwertyuiop", "alice1234"]) {
      const refused = await run(["add", "alice", "--password-stdin"], `${weak}\n`);
      expect(refused.code).toBe(1);
      expect(refused.err).toStartWith("oqto user add: the password is too easy to guess: ");
    }
    const spaces = await run(["add", "alice", "--password-stdin"], "        \n");
    expect(spaces).toMatchObject({ code: 1, err: "oqto user add: the password is only whitespace" });
    expect(withStore((store) => store.users.list())).toEqual([]);
  });

  test("usage errors exit 2: no --password-stdin, no name, two names, unknown action", async () => {
    const noStdin = await run(["add", "alice"]);
    expect(noStdin.code).toBe(2);
    expect(noStdin.err).toContain("--password-stdin is required");
    expect(noStdin.stdinRead).toBe(false);
    expect((await run(["add", "--password-stdin"])).code).toBe(2);
    expect((await run(["add", "alice", "bob", "--password-stdin"])).code).toBe(2);
    expect((await run(["remove", "alice"])).code).toBe(2);
    expect((await run([])).code).toBe(2);
    await expect(runUserCommand(["add", "alice", "--bogus", ...common])).rejects.toThrow(/bogus/);
  });

  test("reads the password from the real stdin of a separate process", async () => {
    const script = join(dir, "run.ts");
    const entry = resolve(import.meta.dir, "../../src/cli/user.ts");
    writeFileSync(
      script,
      `import { runUserCommand } from ${JSON.stringify(entry)};\nprocess.exitCode = await runUserCommand(process.argv.slice(2));\n`,
    );
    const { stdout, stderr, code } = await runProcess(
      [process.execPath, script, "add", "bob", "--password-stdin", ...common],
      { stdin: "bobs-password\n" },
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toStartWith("created user 'bob'");
    const user = withStore((store) => store.users.byUsername("bob"));
    expect(await checkPassword("bobs-password", user?.password_hash ?? null)).toBe(true);
  });
});

describe("oqto user list", () => {
  test("prints a table of users", async () => {
    expect((await run(["list"])).out).toBe("no users");
    await run(["add", "root-admin", "--admin", "--password-stdin"], "first-password\n");
    await run(["add", "alice", "--password-stdin"], "alice-password\n");
    const result = await run(["list"]);
    expect(result.code).toBe(0);
    const lines = result.out.split("\n");
    expect(lines[0]).toMatch(/^USERNAME\s+ROLE\s+ACTIVE\s+CREATED\s+LAST LOGIN$/);
    expect(lines[1]).toMatch(/^root-admin\s+admin\s+yes\s+\d{4}-\d\d-\d\dT\S+Z\s+-$/);
    expect(lines[2]).toMatch(/^alice\s+user\s+yes\s+/);
    expect(lines).toHaveLength(3);
  });

  test("rejects add-only flags", async () => {
    expect((await run(["list", "--admin"])).code).toBe(2);
  });
});

describe("oqto user disable|enable|passwd|role|delete", () => {
  beforeEach(async () => {
    await run(["add", "boss", "--admin", "--password-stdin"], "first-password\n");
    await run(["add", "alice", "--password-stdin"], "alice-password\n");
  });
  const alice = () => withStore((store) => store.users.byUsername("alice"));

  test("disable and enable revoke and restore access, bumping the token version", async () => {
    const tv = alice()?.tv ?? -1;
    expect(await run(["disable", "alice"])).toMatchObject({
      code: 0,
      out: "disabled 'alice' (signed out everywhere)",
    });
    expect(alice()).toMatchObject({ is_active: false, tv: tv + 1 });
    expect((await run(["enable", "alice"])).code).toBe(0);
    expect(alice()?.is_active).toBe(true);
  });

  test("passwd reads the new password from stdin and refuses a weak one", async () => {
    const weak = await run(["passwd", "alice", "--password-stdin"], "password\n");
    expect(weak.code).toBe(1);
    expect(weak.err).toStartWith("oqto user passwd: the password is too easy to guess");
    expect(await checkPassword("alice-password", alice()?.password_hash ?? null)).toBe(true);
    const changed = await run(["passwd", "alice", "--password-stdin"], "marble-canyon-violin-8\n");
    expect(changed.code).toBe(0);
    expect(await checkPassword("marble-canyon-violin-8", alice()?.password_hash ?? null)).toBe(true);
    expect((await run(["passwd", "alice"])).code).toBe(2);
  });

  test("role changes the role; the last active admin stays an admin and cannot be disabled or deleted", async () => {
    for (const args of [
      ["role", "boss", "user"],
      ["disable", "boss"],
      ["delete", "boss"],
    ]) {
      const refused = await run(args);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain("last active admin");
    }
    expect(await run(["role", "alice", "admin"])).toMatchObject({ code: 0, out: "'alice' is now an admin" });
    expect((await run(["role", "boss", "user"])).code).toBe(0);
    const bad = await run(["role", "alice", "root"]);
    expect(bad).toMatchObject({
      code: 1,
      err: "oqto user role: the role must be 'admin' or 'user', not 'root'",
    });
  });

  test("delete removes the user; unknown users and usage errors are clear", async () => {
    expect(await run(["delete", "alice"])).toMatchObject({ code: 0, out: "deleted 'alice'" });
    expect(alice()).toBeNull();
    expect(await run(["delete", "alice"])).toMatchObject({
      code: 1,
      err: "oqto user delete: no user 'alice'",
    });
    expect((await run(["delete"])).code).toBe(2);
    expect((await run(["delete", "a", "b"])).code).toBe(2);
    expect((await run(["role", "boss"])).code).toBe(2);
    expect((await run(["disable", "boss", "--admin"])).code).toBe(2);
  });
});
