/**
 * The single compiled executable: `dist/oqto` serves the embedded UI and runs the whole chat
 * path (serve, its runner, pi) with nothing beside it but pi.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const REPO = resolve(import.meta.dir, "../..");
const BINARY = join(REPO, "dist/oqto");
const PI_CLI = join(dirname(Bun.resolveSync("@mariozechner/pi-coding-agent", REPO)), "cli.js");

let stack: Stack;

beforeAll(async () => {
  if (!existsSync(BINARY)) {
    const build = Bun.spawnSync(["bun", "run", "build"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
    expect(build.exitCode).toBe(0);
  }
  stack = await startStack({ binary: BINARY, extraConfig: `cli = ${JSON.stringify(PI_CLI)}\n` });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** One pi session in the workspace at `path`: the fake LLM answers `words`; returns the streamed text. */
async function chatTurn(path: string, words: string[]): Promise<string> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  try {
    const sessionId = newSessionId();
    const created = await client.command(sessionId, "session.create", {
      config: { harness: "pi", cwd: path },
    });
    expect(created.error ?? "").toBe("");
    stack.fakeLlm.script([{ text: words }]);
    const from = client.frames.length;
    expect((await client.command(sessionId, "prompt", { message: "hi" })).success).toBe(true);
    await client.event(sessionId, "agent.idle", from, 60_000);
    return client
      .events(sessionId)
      .filter((f) => f.event === "stream.text_delta")
      .map((f) => f.delta)
      .join("");
  } finally {
    client.close();
  }
}

test("the binary reports its version and serves the embedded UI with its assets", async () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  const version = Bun.spawnSync([BINARY, "version"]).stdout.toString().trim();
  expect(version).toBe(pkg.version);
  const health = (await (await fetch(`${stack.baseUrl}/api/health`)).json()) as {
    status: string;
    version: string;
    multi_user: boolean;
  };
  expect(health).toEqual({ status: "ok", version: pkg.version, multi_user: false });

  for (const path of ["/", "/login", "/setup"]) {
    const page = await fetch(`${stack.baseUrl}${path}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    // The embedded UI goes through the same route and headers as from source.
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self';");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  }
  const html = await (await fetch(`${stack.baseUrl}/`)).text();
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1] as string);
  expect(scripts.length).toBeGreaterThan(0);
  for (const src of scripts) {
    const asset = await fetch(new URL(src, stack.baseUrl));
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(1000);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
  }
});

test("the embedded UI keeps the Usage page's chart library (uPlot) in a chunk of its own", async () => {
  const html = await (await fetch(`${stack.baseUrl}/`)).text();
  const entry = html.match(/<script[^>]+src="([^"]+)"/)?.[1] ?? "";
  const main = await (await fetch(new URL(entry, stack.baseUrl))).text();
  expect(main).not.toContain("u-legend");
  const imported = [...new Set(main.match(/\/chunk-[a-z0-9]+\.js/g) ?? [])].filter((path) => path !== entry);
  const chunks = await Promise.all(
    imported.map(async (path) =>
      (await (await fetch(new URL(path, stack.baseUrl))).text()).includes("u-legend"),
    ),
  );
  expect(chunks.filter(Boolean)).toEqual([true]);
});

test("the binary checks password strength in its worker, in the CLI and in serve", async () => {
  // The worker is an entry point of its own in the binary (src/shared/worker-url.ts): a wrong path fails here.
  const weak = await stack.cli(["user", "add", "weakling", "--password-stdin"], "password1\n");
  expect(weak.code).toBe(1);
  expect(weak.stderr).toContain("too easy to guess");
  const post = (password: string) =>
    fetch(`${stack.baseUrl}/api/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ username: "strongling", password }),
    });
  const refused = await post("password1");
  expect(refused.status).toBe(400);
  expect(JSON.stringify(await refused.json())).toContain("weak_password");
  expect((await post("a lantern under seven quiet bridges")).status).toBe(201);
});

test("a chat turn runs through the binary's serve, runner and pi", async () => {
  const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "bin" }),
  });
  const { path } = (await ws.json()) as { path: string };
  expect(await chatTurn(path, ["from ", "the ", "binary"])).toBe("from the binary");
});

test("under a strict workspace the binary's own sandbox-shim carries the LLM bridge", async () => {
  const auth = { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` };
  const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "bin-strict" }),
  });
  const { path } = (await ws.json()) as { path: string };
  const put = await fetch(`${stack.baseUrl}/api/workspaces/bin-strict/sandbox`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ profile: "strict" }),
  });
  expect(put.status).toBe(200);
  expect(await chatTurn(path, ["strict ", "binary"])).toBe("strict binary");
}, 90_000);
