/**
 * `oqto login` / `oqto logout` and `oqto sessions` against a running server: the credentials file
 * (0600 in a 0700 directory, checked before use), the API key it holds, and the session commands.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { HistoryListResult } from "../../src/protocol/index.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { type ClientHome, clientHome } from "./cli-client-env.ts";

let stack: Stack;
let client: ClientHome;
const homes: ClientHome[] = [];

function credentialsPath(home: ClientHome): string {
  return join(home.configDir, "oqto", "credentials.json");
}

function newHome(): ClientHome {
  const home = clientHome();
  homes.push(home);
  return home;
}

async function keysOfAdmin(): Promise<Array<{ id: string; name: string }>> {
  const res = await fetch(`${stack.baseUrl}/api/keys`, {
    headers: { authorization: `Bearer ${stack.admin.token}` },
  });
  return ((await res.json()) as { keys: Array<{ id: string; name: string }> }).keys;
}

const login = (home: ClientHome, password = stack.admin.password) =>
  home.oqto(["login", "--server", `${stack.baseUrl}/`, "--username", "admin", "--password-stdin"], {
    stdin: `${password}\n`,
  });

beforeAll(async () => {
  stack = await startStack();
  client = newHome();
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "main" }),
  });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  for (const home of homes) rmSync(home.home, { recursive: true, force: true });
}, 15_000);

describe("oqto login", () => {
  test("stores an API key named cli@<hostname> in a 0600 file in a 0700 directory", async () => {
    const { code, stdout, stderr } = await login(client);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`logged in to ${stack.baseUrl} as admin`);
    const file = credentialsPath(client);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(client.configDir, "oqto")).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, "utf8")) as {
      server: string;
      token: string;
      key_id: string;
    };
    // The trailing slash of --server is not part of the stored address.
    expect(stored.server).toBe(stack.baseUrl);
    expect(stored.token).toStartWith("oqto_");
    const key = (await keysOfAdmin()).find((k) => k.id === stored.key_id);
    expect(key?.name).toBe(`cli@${hostname()}`);
  });

  test("a wrong password exits 3 and writes nothing", async () => {
    const home = newHome();
    const { code, stderr } = await login(home, "not-the-password");
    expect(code).toBe(3);
    expect(stderr.trim()).toBe("oqto login: wrong username or password (401)");
    expect(existsSync(credentialsPath(home))).toBe(false);
  });

  test("an unreachable server exits 4; a non-terminal stdin without --password-stdin exits 2", async () => {
    const home = newHome();
    const down = await home.oqto(
      ["login", "--server", "http://127.0.0.1:1", "--username", "a", "--password-stdin"],
      {
        stdin: "x\n",
      },
    );
    expect(down.code).toBe(4);
    expect(down.stderr.trim()).toBe("oqto login: cannot reach http://127.0.0.1:1: connection refused");
    const noTty = await home.oqto(["login", "--server", stack.baseUrl]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain("stdin is not a terminal");
  });
});

describe("oqto sessions, with the stored credentials", () => {
  let sessionId: string;

  test("oqto run uses the stored key (no OQTO_* in the environment)", async () => {
    stack.fakeLlm.script([{ text: "pineapples grow on the ground" }]);
    const { code, stdout, stderr } = await client.oqto(["run", "-w", "main", "where do pineapples grow?"]);
    expect({ code, stdout }).toEqual({ code: 0, stdout: "pineapples grow on the ground\n" });
    sessionId = /session (oqto-\S+) in /.exec(stderr)?.[1] as string;
    expect(sessionId).toBeDefined();
  });

  test("list shows the session, in a table and as JSON", async () => {
    const table = await client.oqto(["sessions", "list", "-w", "main"]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+WORKSPACE\s+UPDATED\s+MESSAGES\s+STATE\s+TITLE$/);
    const row = rows.find((r) => r.startsWith(sessionId));
    expect(row).toMatch(/\smain\s/);
    expect(row).toContain("where do pineapples grow?");
    const json = await client.oqto(["sessions", "list", "--json"]);
    const parsed = HistoryListResult.parse(JSON.parse(json.stdout));
    expect(parsed.sessions.map((s) => s.session_id)).toContain(sessionId);
  });

  test("show prints the conversation", async () => {
    const { code, stdout } = await client.oqto(["sessions", "show", sessionId]);
    expect(code).toBe(0);
    expect(stdout).toContain(`session   ${sessionId}`);
    expect(stdout).toMatch(/--- user \([^)]+\)\nwhere do pineapples grow\?/);
    expect(stdout).toMatch(/--- assistant \([^)]+\)\npineapples grow on the ground/);
  });

  test("search finds the message", async () => {
    const { code, stdout } = await client.oqto(["sessions", "search", "pineapples"]);
    expect(code).toBe(0);
    expect(stdout.split("\n").some((line) => line.startsWith(sessionId))).toBe(true);
    const none = await client.oqto(["sessions", "search", "zyxwvutsrq"]);
    expect({ code: none.code, stdout: none.stdout }).toEqual({ code: 0, stdout: "no matches\n" });
  });

  test("rm deletes it; show then exits 1 with the server's 404", async () => {
    const rm = await client.oqto(["sessions", "rm", sessionId]);
    expect({ code: rm.code, stdout: rm.stdout }).toEqual({ code: 0, stdout: `deleted ${sessionId}\n` });
    const show = await client.oqto(["sessions", "show", sessionId]);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain("(404 NOT_FOUND)");
  });

  test("usage errors exit 2 with one line; --help exits 0", async () => {
    for (const args of [
      ["sessions"],
      ["sessions", "frob"],
      ["sessions", "show"],
      ["sessions", "rm", "a", "--json"],
    ]) {
      const { code, stderr } = await client.oqto(args);
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    }
    const help = await client.oqto(["sessions", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: oqto sessions list");
  });
});

describe("the credentials file is checked before use", () => {
  test("OQTO_URL naming another server does not get the stored token", async () => {
    const { code, stderr } = await client.oqto(["sessions", "list"], {
      env: { OQTO_URL: "http://127.0.0.1:1" },
    });
    expect(code).toBe(3);
    expect(stderr).toContain(`the stored token is for ${stack.baseUrl}, not http://127.0.0.1:1`);
  });

  test("a file others can read, or a corrupt one, is refused with a clear line", async () => {
    const home = newHome();
    expect((await login(home)).code).toBe(0);
    const file = credentialsPath(home);
    chmodSync(file, 0o644);
    const exposed = await home.oqto(["sessions", "list"]);
    expect(exposed.code).toBe(3);
    expect(exposed.stderr.trim()).toBe(
      `oqto sessions: ${file} is readable by others (mode 644): run chmod 600 ${file}`,
    );
    chmodSync(file, 0o600);
    writeFileSync(file, "{ not json");
    const corrupt = await home.oqto(["sessions", "list"]);
    expect(corrupt.code).toBe(3);
    expect(corrupt.stderr).toContain("is not valid JSON");
    writeFileSync(
      file,
      JSON.stringify({ version: 1, server: stack.baseUrl, token: "t", created_at: 1, extra: 1 }),
    );
    const unknownKey = await home.oqto(["sessions", "list"]);
    expect(unknownKey.code).toBe(3);
    expect(unknownKey.stderr).toContain("is not a credentials file");
  });
});

describe("oqto logout", () => {
  test("revokes the key login made and removes the file", async () => {
    const home = newHome();
    expect((await login(home)).code).toBe(0);
    const stored = JSON.parse(readFileSync(credentialsPath(home), "utf8")) as {
      token: string;
      key_id: string;
    };
    const out = await home.oqto(["logout"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("its API key is revoked");
    expect(existsSync(credentialsPath(home))).toBe(false);
    expect((await keysOfAdmin()).some((k) => k.id === stored.key_id)).toBe(false);
    const me = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { authorization: `Bearer ${stored.token}` },
    });
    expect(me.status).toBe(401);
    const again = await home.oqto(["logout"]);
    expect(again.code).toBe(3);
  });

  test("login --token-stdin stores a key the user brings, after the server accepted it", async () => {
    const made = await fetch(`${stack.baseUrl}/api/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "brought" }),
    });
    const { key } = (await made.json()) as { key: string };
    const home = newHome();
    const bad = await home.oqto(["login", "--server", stack.baseUrl, "--token-stdin"], {
      stdin: "oqto_wrong\n",
    });
    expect(bad.code).toBe(3);
    expect(existsSync(credentialsPath(home))).toBe(false);
    const good = await home.oqto(["login", "--server", stack.baseUrl, "--token-stdin"], {
      stdin: `${key}\n`,
    });
    expect(good.code).toBe(0);
    const list = await home.oqto(["sessions", "list"]);
    expect(list.code).toBe(0);
    const out = await home.oqto(["logout"]);
    expect(out.stdout).toContain("stays valid");
    const me = await fetch(`${stack.baseUrl}/api/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
  });
});
