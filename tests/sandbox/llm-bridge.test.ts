/**
 * The LLM bridge (SANDBOX.md §5) on its own: the models.json rewrite (base URLs only), the reverse
 * proxy on its unix socket against a real recording upstream standing in for the server's LLM gateway,
 * and the agent reaching that gateway from a real bwrap: through `oqto sandbox-shim` and the bridge
 * without network, directly with the host's network. The bridge holds and adds no credential: the
 * process's own LLM token travels through it unchanged, and the gateway checks it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import { LLM_TOKEN_ENV } from "../../src/protocol/llm.ts";
import type { LlmTokenPush } from "../../src/protocol/runner.ts";
import { LlmTokens } from "../../src/runner/llm/llm-tokens.ts";
import { bridgeModels } from "../../src/runner/sandbox/bridge-models.ts";
import { LLM_BRIDGE_PORT, type LlmBridge, startLlmBridge } from "../../src/runner/sandbox/llm-bridge.ts";
import { WorkspaceProfiles } from "../../src/runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../../src/runner/sandbox/workspace-sandbox.ts";
import { agentSandbox } from "../../src/runner/sandbox/wrap.ts";
import { upstreamUrl } from "../../src/shared/upstream-url.ts";
import { runProcess } from "../helpers/run-process.ts";
import { buildHome, put } from "./helpers.ts";

const REPO = resolve(import.meta.dir, "../..");

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Host pids below `root` in the process tree (bwrap forks; the shim is a grandchild). */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The ppid is the second field after the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}
/** Whether `pid` has a handler installed for `signal` (the SigCgt mask of its /proc status). */
function catches(pid: number, signal: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}
const noLog = () => {};

/** What the upstream got, as it echoes it back. */
interface Echo {
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

let upstream: Server<undefined>;
let received: Echo[] = [];
/** Resolves when the upstream's endless stream is cancelled (its reader went away). */
let endlessCancelled: Promise<void> = Promise.resolve();
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "oqto-br-"));
  // Stands in for the server's LLM gateway: answers every request with the request itself, so that
  // whatever the bridge sends, the test (and the agent) can read back.
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const echo: Echo = {
        method: request.method,
        url: `${url.pathname}${url.search}`,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      };
      received.push(echo);
      if (url.pathname === "/v1/slow") {
        // Two chunks 11 s apart: longer than Bun.serve's 10 s default idle timeout.
        return new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("data: first\n\n"));
              await Bun.sleep(11_000);
              controller.enqueue(new TextEncoder().encode("data: second\n\n"));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      if (url.pathname === "/v1/endless") {
        // A chunk every 50 ms for as long as someone reads.
        let timer: ReturnType<typeof setInterval> | undefined;
        let cancelled = () => {};
        endlessCancelled = new Promise((done) => {
          cancelled = done;
        });
        return new Response(
          new ReadableStream({
            start(controller) {
              timer = setInterval(() => controller.enqueue(new TextEncoder().encode("data: more\n\n")), 50);
            },
            cancel() {
              clearInterval(timer);
              cancelled();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      return Response.json(echo, { status: url.pathname.endsWith("/teapot") ? 418 : 200 });
    },
  });
});

afterAll(() => {
  void upstream.stop(true);
  rmSync(root, { recursive: true, force: true });
});

/** A models.json as the server writes it: every key is the name of the LLM token's variable. */
function modelsFile(providers: Record<string, unknown>): string {
  return put(
    join(mkdtempSync(join(root, "a-")), "models.json"),
    `${JSON.stringify({ providers }, null, 2)}\n`,
  );
}

const upstreamBase = () => `http://127.0.0.1:${upstream.port}/v1`;

function start(providers: Record<string, unknown>): LlmBridge {
  return startLlmBridge({ root: join(root, "llm"), modelsFile: modelsFile(providers), log: noLog });
}

/** fetch through the bridge's socket, as the shim does for the agent. */
function viaBridge(bridge: LlmBridge, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${LLM_BRIDGE_PORT}${path}`, { ...init, unix: bridge.socketPath });
}

/** One HTTP/1.1 GET written byte for byte to a unix socket; resolves with the raw response. */
function rawGet(socketPath: string, path: string): Promise<string> {
  return new Promise((done, fail) => {
    let text = "";
    void Bun.connect({
      unix: socketPath,
      socket: {
        open: (socket) => {
          socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        },
        data: (_socket, data) => {
          text += data.toString();
        },
        close: () => done(text),
        error: (_socket, error) => fail(error),
      },
    });
  });
}

describe("models.json rewrite", () => {
  test("points every provider and model base URL at the bridge and leaves the keys as they are", () => {
    const input = {
      providers: {
        a: {
          baseUrl: "https://gateway.example.com/llm/a",
          apiKey: LLM_TOKEN_ENV,
          api: "openai-completions",
          compat: { supportsStore: false },
          models: [{ id: "m" }],
        },
        b: {
          baseUrl: "http://10.0.0.5:8000",
          apiKey: LLM_TOKEN_ENV,
          api: "openai-completions",
          models: [{ id: "x", baseUrl: "http://10.0.0.6/v2", api: "anthropic-messages" }],
        },
        c: { baseUrl: "unix:/run/llm.sock", models: [] },
        keyless: { baseUrl: "http://10.0.0.7/v1" },
      },
      extra: { kept: true },
    };
    const before = structuredClone(input);
    const { modelsJson, routes } = bridgeModels(input, "http://127.0.0.1:1");
    expect(input).toEqual(before);
    expect(modelsJson.extra).toEqual({ kept: true });
    const providers = modelsJson.providers as Record<string, Record<string, unknown>>;
    expect(providers.a).toEqual({
      baseUrl: "http://127.0.0.1:1/r0",
      apiKey: LLM_TOKEN_ENV,
      api: "openai-completions",
      compat: { supportsStore: false },
      models: [{ id: "m" }],
    });
    expect(providers.b).toEqual({
      baseUrl: "http://127.0.0.1:1/r1",
      apiKey: LLM_TOKEN_ENV,
      api: "openai-completions",
      models: [{ id: "x", baseUrl: "http://127.0.0.1:1/r2", api: "anthropic-messages" }],
    });
    // Not http(s): left alone and not routed.
    expect(providers.c).toEqual({ baseUrl: "unix:/run/llm.sock", models: [] });
    // Without a key it gets none: the bridge adds no credential.
    expect(providers.keyless).toEqual({ baseUrl: "http://127.0.0.1:1/r3" });
    expect([...routes]).toEqual([
      ["r0", new URL("https://gateway.example.com/llm/a")],
      ["r1", new URL("http://10.0.0.5:8000")],
      ["r2", new URL("http://10.0.0.6/v2")],
      ["r3", new URL("http://10.0.0.7/v1")],
    ]);
  });

  test("paths stay below the provider's base URL", () => {
    const base = new URL("https://api.example.com/v1");
    expect(upstreamUrl(base, "chat/completions", "?x=1")?.href).toBe(
      "https://api.example.com/v1/chat/completions?x=1",
    );
    expect(upstreamUrl(base, "models/gemini%3Apro", "")?.href).toBe(
      "https://api.example.com/v1/models/gemini%3Apro",
    );
    for (const leaving of [
      "../admin",
      "chat/../../admin",
      "./models",
      ".",
      "%2e%2e/admin",
      "%2E%2E/admin",
      "%2e/models",
      "a%2F..%2F..%2Fadmin",
      "a%2fb",
      "a%5c..%5cadmin",
    ]) {
      expect(upstreamUrl(base, leaving, "")).toBeUndefined();
    }
    expect(upstreamUrl(new URL("http://h:1/"), "v1/models", "")?.href).toBe("http://h:1/v1/models");
  });
});

/** pi's `api` → where its client puts the key (here: the process's LLM token). */
const API_KINDS = [
  { api: "anthropic-messages", header: "x-api-key", value: (key: string) => key },
  { api: "google-generative-ai", header: "x-goog-api-key", value: (key: string) => key },
  { api: "openai-completions", header: "authorization", value: (key: string) => `Bearer ${key}` },
  { api: "openai-responses", header: "authorization", value: (key: string) => `Bearer ${key}` },
];
const AUTH_HEADERS = ["authorization", "x-api-key", "x-goog-api-key", "api-key"];

describe("the presented credential reaches the gateway unchanged", () => {
  let bridge: LlmBridge;
  beforeAll(() => {
    bridge = start(
      Object.fromEntries(
        API_KINDS.map(({ api }) => [
          api,
          { baseUrl: upstreamBase(), api, apiKey: LLM_TOKEN_ENV, models: [] },
        ]),
      ),
    );
  });
  afterAll(() => bridge.stop());

  API_KINDS.forEach(({ api, header, value }, index) => {
    test(`${api}: '${header}' arrives as pi sent it, nothing else is added`, async () => {
      const token = `oqtok_test-${api}`;
      received = [];
      const res = await viaBridge(bridge, `/r${index}/messages?alt=sse`, {
        method: "POST",
        headers: { [header]: value(token), "x-echo": "kept", "content-type": "application/json" },
        body: `{"model":"m","stream":true}`,
      });
      expect(res.status).toBe(200);
      const echo = (await res.json()) as Echo;
      expect(received).toEqual([echo]);
      expect(echo.method).toBe("POST");
      expect(echo.url).toBe("/v1/messages?alt=sse");
      expect(echo.body).toBe(`{"model":"m","stream":true}`);
      expect(echo.headers[header]).toBe(value(token));
      for (const other of AUTH_HEADERS.filter((name) => name !== header))
        expect(echo.headers[other]).toBeUndefined();
      expect(echo.headers["x-echo"]).toBe("kept");
      expect(echo.headers["content-type"]).toBe("application/json");
      // Re-framed for the upstream: its own Host.
      expect(echo.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    });
  });

  test("every credential header and a query key pass together, untouched", async () => {
    received = [];
    const res = await viaBridge(bridge, "/r1/models?key=oqtok_in-query&alt=sse", {
      headers: {
        authorization: "Bearer oqtok_a",
        "x-api-key": "oqtok_b",
        "x-goog-api-key": "oqtok_c",
        "api-key": "oqtok_d",
      },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("/v1/models?key=oqtok_in-query&alt=sse");
    expect(Object.fromEntries(AUTH_HEADERS.map((name) => [name, echo.headers[name]]))).toEqual({
      authorization: "Bearer oqtok_a",
      "x-api-key": "oqtok_b",
      "x-goog-api-key": "oqtok_c",
      "api-key": "oqtok_d",
    });
  });

  test("a request without a credential is forwarded without one: the gateway decides", async () => {
    received = [];
    const res = await viaBridge(bridge, "/r2/models");
    expect(res.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(Object.keys(received[0]?.headers ?? {}).filter((name) => AUTH_HEADERS.includes(name))).toEqual([]);
  });
});

describe("the bridge's socket", () => {
  test("a 0600 socket in a 0700 dir, reached as the shim's loopback port, cleaned up on stop", async () => {
    const bridge = start({
      fake: {
        baseUrl: upstreamBase(),
        api: "openai-completions",
        apiKey: LLM_TOKEN_ENV,
        models: [{ id: "m" }],
      },
    });
    try {
      expect(Object.keys(bridge).sort()).toEqual(["dir", "modelsFile", "socketPath", "stop"]);
      expect(readdirSync(bridge.dir).sort()).toEqual(["llm.sock", "models.json"]);
      expect(statSync(bridge.dir).mode & 0o777).toBe(0o700);
      expect(statSync(bridge.socketPath).mode & 0o777).toBe(0o600);
      expect(statSync(bridge.modelsFile as string).mode & 0o777).toBe(0o600);
      const inside = JSON.parse(readFileSync(bridge.modelsFile as string, "utf8"));
      expect(inside.providers.fake).toEqual({
        baseUrl: `http://127.0.0.1:${LLM_BRIDGE_PORT}/r0`,
        api: "openai-completions",
        apiKey: LLM_TOKEN_ENV,
        models: [{ id: "m" }],
      });

      received = [];
      const res = await viaBridge(bridge, "/r0/chat/completions", {
        method: "POST",
        headers: { authorization: "Bearer oqtok_x" },
        body: '{"model":"m"}',
      });
      expect(res.status).toBe(200);
      expect(received).toMatchObject([
        {
          method: "POST",
          url: "/v1/chat/completions",
          headers: { authorization: "Bearer oqtok_x" },
          body: '{"model":"m"}',
        },
      ]);
      // Upstream statuses pass through untouched.
      expect((await viaBridge(bridge, "/r0/teapot")).status).toBe(418);
    } finally {
      bridge.stop();
    }
    expect(existsSync(bridge.dir)).toBe(false);
    await expect(viaBridge(bridge, "/r0/models")).rejects.toThrow();
  });

  test("unknown routes are a 404 and paths leaving a route's base a 400, and neither reaches the upstream", async () => {
    const bridge = start({ fake: { baseUrl: upstreamBase(), apiKey: LLM_TOKEN_ENV } });
    try {
      received = [];
      const unknown = await viaBridge(bridge, "/r9/chat/completions", {
        headers: { authorization: "Bearer t" },
      });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: expect.stringContaining("'/r9'"), code: "not_found" });
      expect((await viaBridge(bridge, "/")).status).toBe(404);
      expect((await viaBridge(bridge, "/fake/models")).status).toBe(404);
      // fetch would normalise the path itself; raw requests show what the bridge does with it.
      for (const path of ["/r0/..%2Fadmin", "/r0/models%2f..%2f..", "/r0/a%5c..%5cadmin"]) {
        const escaped = await rawGet(bridge.socketPath, path);
        expect(escaped).toStartWith("HTTP/1.1 400");
        expect(escaped).toContain('"code":"invalid_request"');
      }
      // Dot segments the URL parser resolves leave the route itself: nothing behind them.
      for (const path of ["/r0/../admin", "/r0/%2e%2e/admin", "/r0/a/%2E%2E/%2E%2E/admin"]) {
        const escaped = await rawGet(bridge.socketPath, path);
        expect(escaped).toStartWith("HTTP/1.1 404");
        expect(escaped).toContain('"code":"not_found"');
      }
      expect(received).toEqual([]);
    } finally {
      bridge.stop();
    }
  });

  test("each bridge has its own dir and socket", () => {
    const bridges = [start({}), start({}), start({})];
    try {
      expect(new Set(bridges.map((bridge) => bridge.dir)).size).toBe(3);
      expect(new Set(bridges.map((bridge) => bridge.socketPath)).size).toBe(3);
      for (const bridge of bridges) expect(bridge.socketPath).toBe(join(bridge.dir, "llm.sock"));
    } finally {
      for (const bridge of bridges) bridge.stop();
    }
  });

  test("an unreachable gateway is a 502 with {error, code}, and the bridge keeps serving", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadPort = dead.port;
    await dead.stop(true);
    const bridge = start({
      gone: { baseUrl: `http://127.0.0.1:${deadPort}/v1`, apiKey: LLM_TOKEN_ENV },
      live: { baseUrl: upstreamBase(), apiKey: LLM_TOKEN_ENV },
    });
    try {
      const res = await viaBridge(bridge, "/r0/models");
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code).toBe("bad_gateway");
      expect(body.error).toContain("unreachable");
      expect((await viaBridge(bridge, "/r1/models")).status).toBe(200);
    } finally {
      bridge.stop();
    }
  });

  test("a stream that pauses longer than 10 s is relayed whole", async () => {
    const bridge = start({ fake: { baseUrl: upstreamBase(), apiKey: LLM_TOKEN_ENV } });
    try {
      const res = await viaBridge(bridge, "/r0/slow", { headers: { authorization: "Bearer t" } });
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      expect(await res.text()).toBe("data: first\n\ndata: second\n\n");
    } finally {
      bridge.stop();
    }
  }, 30_000);

  test("a client that goes away mid-stream cancels the upstream call", async () => {
    const bridge = start({ fake: { baseUrl: upstreamBase(), apiKey: LLM_TOKEN_ENV } });
    try {
      const abort = new AbortController();
      const res = await viaBridge(bridge, "/r0/endless", { signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("data: more");
      const cancelled = endlessCancelled;
      abort.abort();
      const outcome = await Promise.race([
        cancelled.then(() => "cancelled"),
        Bun.sleep(5_000).then(() => "still streaming"),
      ]);
      expect(outcome).toBe("cancelled");
      // And the bridge is still there for the next request.
      expect((await viaBridge(bridge, "/r0/models")).status).toBe(200);
    } finally {
      bridge.stop();
    }
  }, 15_000);

  test("bad setups fail closed with sandbox_error and leave nothing behind", () => {
    const broken = put(modelsFile({}), "{not json");
    const startWith = (file: string, bridgeRoot = join(root, "llm")) =>
      startLlmBridge({ root: bridgeRoot, modelsFile: file, log: noLog });
    expect(() => startWith(broken)).toThrow(/is not JSON/);
    expect(() => startWith(put(join(root, "wrong.json"), '{"providers": {"a": {"baseUrl": 5}}}'))).toThrow(
      /not a pi models.json/,
    );
    const longRoot = join(root, "x".repeat(100));
    expect(() => startWith(join(root, "none.json"), longRoot)).toThrow(/longer than 107 bytes/);
    expect(existsSync(longRoot)).toBe(false);

    // No models.json at all: the bridge runs, with nothing to overlay and nothing routed.
    const empty = startWith(join(root, "none.json"));
    expect(empty.modelsFile).toBeUndefined();
    expect(readdirSync(empty.dir)).toEqual(["llm.sock"]);
    empty.stop();
  });
});

/** An agent sandbox under `profile`, over Oqto's pi config as the server writes it (no key), as the runner sets it up. */
function launchAgent(profile: string, command: string[]) {
  const base = join(root, `agent-${profile}`);
  const fixture = buildHome(join(base, "home"), profile);
  // The runner's hidden state: Oqto's pi config, the agents' private dirs, the caches.
  const state = join(base, "state");
  const piConfigDir = join(state, "pi");
  put(
    join(piConfigDir, "models.json"),
    `${JSON.stringify(
      {
        providers: {
          fake: { baseUrl: upstreamBase(), api: "openai-completions", apiKey: LLM_TOKEN_ENV, models: [] },
        },
      },
      null,
      2,
    )}\n`,
  );
  const pushes: LlmTokenPush[] = [];
  const tokens = new LlmTokens((frame) => {
    if (frame.type === "llm_token") pushes.push(frame);
  });
  const wrap = agentSandbox({
    sandbox: new WorkspaceSandbox({
      systemFile: fixture.systemFile,
      home: fixture.home,
      multiUser: false,
      choices: new WorkspaceProfiles(join(base, "choices.json")),
    }),
    home: fixture.home,
    workspaceRoot: join(fixture.home, "oqto"),
    hiddenPaths: [state],
    agent: {
      root: join(state, "agents"),
      piConfigDir,
      mintLlmToken: (sessionId) => tokens.mint(sessionId),
      sessionDirFor: (_cwd, { sessionId }) => join(state, "sessions", sessionId),
      shimCommand: [process.execPath, join(REPO, "src/cli/main.ts"), "sandbox-shim"],
      shimPaths: [join(REPO, "src")],
      cacheRoot: join(state, "cache"),
      log: noLog,
    },
  });
  const launch = wrap(fixture.bareWorkspace, command, { sessionId: "s-bridge" });
  return {
    ...launch,
    pushes,
    tokens,
    env: { HOME: fixture.home, PATH: process.env.PATH ?? "", ...launch.env } as Record<string, string>,
  };
}

/**
 * Inside the sandbox: what pi does with its models.json (the key names a variable, pi uses its value),
 * a request without any key, and a try at the upstream directly.
 */
const probe = (hostConfig: string) =>
  [
    `const models = await Bun.file(process.env.PI_CODING_AGENT_DIR + "/models.json").text();`,
    "const { baseUrl, apiKey } = JSON.parse(models).providers.fake;",
    "const key = process.env[apiKey] ?? apiKey;",
    "console.log('base', baseUrl);",
    'const r = await fetch(baseUrl + "/models", { headers: { authorization: "Bearer " + key } });',
    "console.log('llm', r.status, await r.text());",
    `try { await fetch("http://127.0.0.1:${upstream.port}/v1/direct"); console.log("direct open"); } catch (e) { console.log("direct closed"); }`,
    `console.log("config", await Bun.file(${JSON.stringify(hostConfig)}).exists());`,
    "console.log('models', models);",
  ].join("\n");

describe("the agent inside a real bwrap reaches the gateway with its own token", () => {
  for (const { profile, bridged } of [
    { profile: "strict", bridged: true },
    { profile: "minimal", bridged: false },
  ]) {
    test(`${profile}: ${bridged ? "through the shim and its bridge" : "directly"}, never seeing a key`, async () => {
      received = [];
      const hostConfig = join(root, `agent-${profile}`, "state", "pi", "models.json");
      const { argv, env, release, pushes, tokens } = launchAgent(profile, [
        process.execPath,
        "-e",
        probe(hostConfig),
      ]);
      const token = env[LLM_TOKEN_ENV] as string;
      const hash = createHash("sha256").update(token).digest("hex");
      try {
        expect(token).toMatch(/^oqtok_[\w-]{43}$/);
        expect(pushes).toEqual([{ type: "llm_token", op: "add", token_hash: hash, session_id: "s-bridge" }]);
        const { stdout: out, stderr: err, code } = await runProcess(argv, { env });
        expect(err).toBe("");
        expect(code).toBe(0);
        const base = /^base (\S+)$/m.exec(out)?.[1] ?? "";
        if (bridged) {
          expect(base).toBe(`http://127.0.0.1:${LLM_BRIDGE_PORT}/r0`);
          expect(out).toContain("direct closed");
        } else {
          // No bridge: pi's models.json is the host's, pointing straight at the gateway.
          expect(base).toBe(upstreamBase());
          expect(out).toContain("direct open");
        }
        expect(out).toContain("config false");
        // pi's models.json names the variable; the token itself is only in the process's environment.
        const models = out.slice(out.indexOf("models {"));
        expect(models).toContain(`"apiKey": "${LLM_TOKEN_ENV}"`);
        expect(models).not.toContain("oqtok_");
        expect(out).toMatch(/^llm 200 /m);
        // The gateway got exactly the token the runner minted for this process.
        const echo = JSON.parse(/^llm 200 (.*)$/m.exec(out)?.[1] ?? "{}") as Echo;
        expect(echo.url).toBe("/v1/models");
        expect(echo.headers.authorization).toBe(`Bearer ${token}`);
        expect(received.map((seen) => seen.url)).toEqual(
          bridged ? ["/v1/models"] : ["/v1/models", "/v1/direct"],
        );
      } finally {
        release();
      }
      expect(tokens.list()).toEqual([]);
      expect(pushes.at(-1)).toEqual({
        type: "llm_token",
        op: "remove",
        token_hash: hash,
        session_id: "s-bridge",
      });
    }, 30_000);
  }
});

describe("oqto sandbox-shim inside a network-isolated bwrap", () => {
  test("the agent's exit status and signals pass through the shim", async () => {
    const exit = launchAgent("strict", ["/bin/sh", "-c", "exit 7"]);
    try {
      const proc = Bun.spawn(exit.argv, { env: exit.env, stderr: "pipe" });
      expect(await proc.exited).toBe(7);
    } finally {
      exit.release();
    }
    const sleeper = launchAgent("strict", [
      "/bin/sh",
      "-c",
      "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    try {
      const proc = Bun.spawn(sleeper.argv, { env: sleeper.env, stdout: "pipe" });
      const reader = proc.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("ready");
      // bwrap forwards nothing itself; the runner stops pi by closing stdin or killing bwrap, whose
      // death takes the sandbox down (--die-with-parent). Here the shim is signalled directly.
      // bwrap's own processes carry the whole command line too; the shim is the one Bun runs.
      const shim = descendants(proc.pid).find((pid) => cmdline(pid).startsWith(`${process.execPath} `));
      expect(shim).toBeDefined();
      // The shim installs its forwarding handlers only after it has spawned the agent, so the agent
      // can be up before they are: wait for them rather than race the shim's start.
      for (let i = 0; i < 500 && !catches(shim as number, constants.signals.SIGTERM); i++)
        await Bun.sleep(10);
      expect(catches(shim as number, constants.signals.SIGTERM)).toBe(true);
      process.kill(shim as number, "SIGTERM");
      expect(await proc.exited).toBe(42);
    } finally {
      sleeper.release();
    }
  }, 30_000);
});
