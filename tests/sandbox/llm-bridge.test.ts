/**
 * The LLM bridge (SANDBOX.md §5) on its own: the models.json rewrite, the reverse proxy on a unix
 * socket and on the host's loopback against a real echoing upstream, and the agent reaching it
 * from a real bwrap: through `oqto sandbox-shim` without network, directly with the host's network.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import { bridgeModels } from "../../src/runner/sandbox/bridge-models.ts";
import {
  LLM_BRIDGE_PORT,
  type LlmBridge,
  startLlmBridge,
  upstreamUrl,
} from "../../src/runner/sandbox/llm-bridge.ts";
import { WorkspaceProfiles } from "../../src/runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../../src/runner/sandbox/workspace-sandbox.ts";
import { agentSandbox } from "../../src/runner/sandbox/wrap.ts";
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
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "oqto-br-"));
  // An upstream that answers every request with the request itself: whatever the bridge sends, the
  // agent could read back.
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
      return Response.json(echo, { status: url.pathname.endsWith("/teapot") ? 418 : 200 });
    },
  });
});

afterAll(() => {
  void upstream.stop(true);
  rmSync(root, { recursive: true, force: true });
});

function modelsFile(providers: Record<string, unknown>): string {
  return put(join(mkdtempSync(join(root, "a-")), "models.json"), JSON.stringify({ providers }));
}

const upstreamBase = () => `http://127.0.0.1:${upstream.port}/v1`;

function start(listen: "unix" | "loopback", providers: Record<string, unknown>): LlmBridge {
  return startLlmBridge({
    root: join(root, "llm"),
    modelsFile: modelsFile(providers),
    listen,
    log: noLog,
  });
}

/** fetch against the bridge, whichever way it listens. */
function viaBridge(bridge: LlmBridge, path: string, init: RequestInit = {}): Promise<Response> {
  if (bridge.socketPath)
    return fetch(`http://127.0.0.1:${LLM_BRIDGE_PORT}${path}`, { ...init, unix: bridge.socketPath });
  return fetch(`http://127.0.0.1:${bridge.port}${path}`, init);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** One HTTP/1.1 GET written byte for byte to a unix socket; resolves with the raw response. */
function rawGet(socketPath: string, path: string, token: string): Promise<string> {
  return new Promise((done, fail) => {
    let text = "";
    void Bun.connect({
      unix: socketPath,
      socket: {
        open: (socket) => {
          socket.write(
            `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
          );
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
  test("points every provider and model base URL at the bridge and puts the token in every key's place", () => {
    const { modelsJson, routes } = bridgeModels(
      {
        providers: {
          a: {
            baseUrl: "https://api.example.com/v1",
            apiKey: "sk-a",
            api: "openai-completions",
            models: [{ id: "m" }],
          },
          b: {
            baseUrl: "http://10.0.0.5:8000",
            apiKey: "sk-b",
            api: "openai-completions",
            models: [{ id: "x", baseUrl: "http://10.0.0.6/v2", api: "anthropic-messages" }],
          },
          c: { baseUrl: "unix:/run/llm.sock", models: [] },
          keyless: { baseUrl: "http://10.0.0.7/v1" },
        },
      },
      "http://127.0.0.1:1",
      "oqto-bridge-token",
    );
    const providers = modelsJson.providers as Record<string, Record<string, unknown>>;
    expect(providers.a).toEqual({
      baseUrl: "http://127.0.0.1:1/r0",
      apiKey: "oqto-bridge-token",
      api: "openai-completions",
      models: [{ id: "m" }],
    });
    expect(providers.b?.baseUrl).toBe("http://127.0.0.1:1/r1");
    expect(providers.b?.models).toEqual([
      { id: "x", baseUrl: "http://127.0.0.1:1/r2", api: "anthropic-messages" },
    ]);
    // Not http(s): left alone and not routed.
    expect(providers.c).toEqual({ baseUrl: "unix:/run/llm.sock", models: [] });
    // Bridged without a key: pi still has to present the token.
    expect(providers.keyless).toEqual({ baseUrl: "http://127.0.0.1:1/r3", apiKey: "oqto-bridge-token" });
    expect([...routes.keys()]).toEqual(["r0", "r1", "r2", "r3"]);
    // A model's own `api` decides its route's auth header.
    expect(routes.get("r2")).toEqual({
      upstream: new URL("http://10.0.0.6/v2"),
      api: "anthropic-messages",
      apiKey: "sk-b",
    });
    expect(routes.get("r3")).toEqual({ upstream: new URL("http://10.0.0.7/v1") });
    expect(JSON.stringify(modelsJson)).not.toContain("sk-");
  });

  test("paths stay below the provider's base URL", () => {
    const base = new URL("https://api.example.com/v1");
    expect(upstreamUrl(base, "chat/completions", "?x=1")?.href).toBe(
      "https://api.example.com/v1/chat/completions?x=1",
    );
    expect(upstreamUrl(base, "../admin", "")).toBeUndefined();
    expect(upstreamUrl(base, "%2e%2e/admin", "")).toBeUndefined();
    expect(upstreamUrl(base, "a%2F..%2F..%2Fadmin", "")).toBeUndefined();
    expect(upstreamUrl(new URL("http://h:1/"), "v1/models", "")?.href).toBe("http://h:1/v1/models");
  });
});

/** pi's `api` → where its client puts the key, and where the bridge puts the real one. */
const API_KINDS = [
  { api: "anthropic-messages", header: "x-api-key", value: (key: string) => key },
  { api: "google-generative-ai", header: "x-goog-api-key", value: (key: string) => key },
  { api: "openai-completions", header: "authorization", value: (key: string) => `Bearer ${key}` },
  { api: "openai-responses", header: "authorization", value: (key: string) => `Bearer ${key}` },
];
const AUTH_HEADERS = ["authorization", "x-api-key", "x-goog-api-key", "api-key"];

describe("the real key goes only into the provider's own auth header", () => {
  const realKey = (api: string) => `sk-real-${api}`;
  let bridge: LlmBridge;
  beforeAll(() => {
    bridge = start(
      "loopback",
      Object.fromEntries(
        API_KINDS.map(({ api }) => [api, { baseUrl: upstreamBase(), api, apiKey: realKey(api), models: [] }]),
      ),
    );
  });
  afterAll(() => bridge.stop());

  API_KINDS.forEach(({ api, header, value }, index) => {
    test(`${api}: '${header}' carries the key; the token planted elsewhere is echoed as the token`, async () => {
      received = [];
      const res = await viaBridge(bridge, `/r${index}/messages?echo=${bridge.token}`, {
        method: "POST",
        headers: {
          [header]: value(bridge.token),
          "x-echo": bridge.token,
          "content-type": "application/json",
        },
        body: `{"echo":"${bridge.token}"}`,
      });
      expect(res.status).toBe(200);
      const echo = (await res.json()) as Echo;
      expect(received).toEqual([echo]);
      expect(echo.headers[header]).toBe(value(realKey(api)));
      for (const other of AUTH_HEADERS.filter((name) => name !== header))
        expect(echo.headers[other]).toBeUndefined();
      // The placeholder is not secret: everywhere else it passes untouched.
      expect(echo.headers["x-echo"]).toBe(bridge.token);
      expect(echo.url).toBe(`/v1/messages?echo=${bridge.token}`);
      expect(echo.body).toBe(`{"echo":"${bridge.token}"}`);
      const { [header]: _auth, ...rest } = echo.headers;
      expect(JSON.stringify({ ...echo, headers: rest })).not.toContain("sk-real");
    });
  });

  test("every other auth-carrying part of the request is dropped, whatever it holds", async () => {
    received = [];
    const res = await viaBridge(bridge, `/r2/chat/completions?key=${bridge.token}&alt=sse`, {
      headers: {
        ...bearer(bridge.token),
        "x-api-key": "sk-agent-own",
        "x-goog-api-key": bridge.token,
        "api-key": bridge.token,
      },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.url).toBe("/v1/chat/completions?alt=sse");
    expect(Object.keys(echo.headers).filter((name) => AUTH_HEADERS.includes(name))).toEqual([
      "authorization",
    ]);
    expect(echo.headers.authorization).toBe("Bearer sk-real-openai-completions");
  });

  test("a route without a real key forwards no auth header", async () => {
    const keyless = start("loopback", { local: { baseUrl: upstreamBase(), api: "openai-completions" } });
    try {
      const inside = JSON.parse(readFileSync(keyless.modelsFile as string, "utf8"));
      expect(inside.providers.local.apiKey).toBe(keyless.token);
      const res = await viaBridge(keyless, "/r0/models", { headers: bearer(keyless.token) });
      expect(res.status).toBe(200);
      const echo = (await res.json()) as Echo;
      expect(Object.keys(echo.headers).filter((name) => AUTH_HEADERS.includes(name))).toEqual([]);
    } finally {
      keyless.stop();
    }
  });

  test("without its token the bridge answers 401 and never contacts the upstream", async () => {
    const other = start("loopback", { x: { baseUrl: upstreamBase(), apiKey: "k" } });
    other.stop();
    const sameLength = `oqto-bridge-${"0".repeat(32)}`;
    const refused: Record<string, string>[] = [
      {},
      bearer(sameLength),
      bearer(other.token),
      bearer(bridge.token.slice(0, -1)),
      // Not where a provider client puts its key.
      { authorization: bridge.token },
      { "x-echo": bridge.token },
      { "api-key": bridge.token },
    ];
    received = [];
    for (const headers of refused) {
      for (const path of ["/r0/messages", "/r9/unknown"]) {
        const res = await viaBridge(bridge, path, { method: "POST", headers, body: "{}" });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({
          error: expect.stringContaining("token"),
          code: "unauthorized",
        });
      }
    }
    const wrongQuery = await viaBridge(bridge, `/r1/models?key=${sameLength}`);
    expect(wrongQuery.status).toBe(401);
    expect(received).toEqual([]);
    // The query's `key` is enough, as Google's clients send it.
    expect((await viaBridge(bridge, `/r1/models?key=${bridge.token}`)).status).toBe(200);
    expect(received.map((echo) => echo.url)).toEqual(["/v1/models"]);
  });
});

describe("the bridge's listeners", () => {
  test("unix: a 0600 socket in a 0700 dir, reached as the shim's loopback port, cleaned up on stop", async () => {
    const bridge = start("unix", {
      fake: { baseUrl: upstreamBase(), apiKey: "sk-real", models: [{ id: "m" }] },
    });
    try {
      expect(bridge.port).toBeUndefined();
      expect(bridge.token).toMatch(/^oqto-bridge-[0-9a-f]{32}$/);
      expect(statSync(bridge.dir).mode & 0o777).toBe(0o700);
      expect(statSync(bridge.socketPath as string).mode & 0o777).toBe(0o600);
      expect(statSync(bridge.modelsFile as string).mode & 0o777).toBe(0o600);
      const text = readFileSync(bridge.modelsFile as string, "utf8");
      expect(text).not.toContain("sk-real");
      const inside = JSON.parse(text);
      expect(inside.providers.fake.baseUrl).toBe(`http://127.0.0.1:${LLM_BRIDGE_PORT}/r0`);
      expect(inside.providers.fake.apiKey).toBe(bridge.token);

      received = [];
      const res = await viaBridge(bridge, "/r0/chat/completions", {
        method: "POST",
        headers: bearer(bridge.token),
        body: '{"model":"m"}',
      });
      expect(res.status).toBe(200);
      expect(received).toMatchObject([
        {
          method: "POST",
          url: "/v1/chat/completions",
          headers: { authorization: "Bearer sk-real" },
          body: '{"model":"m"}',
        },
      ]);

      // Upstream statuses pass through untouched.
      expect((await viaBridge(bridge, "/r0/teapot", { headers: bearer(bridge.token) })).status).toBe(418);

      const unknown = await viaBridge(bridge, "/r9/chat/completions", { headers: bearer(bridge.token) });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ code: "not_found" });
      // fetch would normalise the path itself; a raw request shows what the bridge does with it.
      const escaped = await rawGet(bridge.socketPath as string, "/r0/..%2Fadmin", bridge.token);
      expect(escaped).toStartWith("HTTP/1.1 400");
      expect(escaped).toContain('"code":"invalid_request"');
    } finally {
      bridge.stop();
    }
    expect(existsSync(bridge.dir)).toBe(false);
  });

  test("loopback: 127.0.0.1 on a free port that models.json points at, closed on stop", async () => {
    const bridge = start("loopback", {
      fake: { baseUrl: upstreamBase(), apiKey: "sk-real", models: [{ id: "m" }] },
    });
    const port = bridge.port as number;
    try {
      expect(bridge.socketPath).toBeUndefined();
      expect(port).toBeGreaterThan(0);
      expect(readdirSync(bridge.dir)).toEqual(["models.json"]);
      expect(statSync(bridge.dir).mode & 0o777).toBe(0o700);
      expect(statSync(bridge.modelsFile as string).mode & 0o777).toBe(0o600);
      const inside = JSON.parse(readFileSync(bridge.modelsFile as string, "utf8"));
      expect(inside.providers.fake).toMatchObject({
        baseUrl: `http://127.0.0.1:${port}/r0`,
        apiKey: bridge.token,
      });

      received = [];
      const res = await fetch(`${inside.providers.fake.baseUrl}/models`, {
        headers: bearer(inside.providers.fake.apiKey),
      });
      expect(res.status).toBe(200);
      expect(received.map((echo) => echo.headers.authorization)).toEqual(["Bearer sk-real"]);
    } finally {
      bridge.stop();
    }
    expect(existsSync(bridge.dir)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/r0/models`)).rejects.toThrow();
  });

  test("each bridge has its own token", () => {
    const bridges = [start("unix", {}), start("unix", {}), start("loopback", {})];
    try {
      expect(new Set(bridges.map((bridge) => bridge.token)).size).toBe(3);
    } finally {
      for (const bridge of bridges) bridge.stop();
    }
  });

  test("an unreachable provider is a 502 with {error, code}, and the bridge keeps serving", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadPort = dead.port;
    await dead.stop(true);
    const bridge = start("unix", {
      gone: { baseUrl: `http://127.0.0.1:${deadPort}/v1`, apiKey: "k" },
      live: { baseUrl: upstreamBase(), apiKey: "k" },
    });
    try {
      const res = await viaBridge(bridge, "/r0/models", { headers: bearer(bridge.token) });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code).toBe("bad_gateway");
      expect(body.error).toContain("unreachable");
      expect((await viaBridge(bridge, "/r1/models", { headers: bearer(bridge.token) })).status).toBe(200);
    } finally {
      bridge.stop();
    }
  });

  test("a stream that pauses longer than 10 s is relayed whole, in both modes", async () => {
    const bridges = [
      start("unix", { fake: { baseUrl: upstreamBase(), apiKey: "k" } }),
      start("loopback", { fake: { baseUrl: upstreamBase(), apiKey: "k" } }),
    ];
    try {
      const texts = await Promise.all(
        bridges.map(async (bridge) =>
          (await viaBridge(bridge, "/r0/slow", { headers: bearer(bridge.token) })).text(),
        ),
      );
      expect(texts).toEqual(["data: first\n\ndata: second\n\n", "data: first\n\ndata: second\n\n"]);
    } finally {
      for (const bridge of bridges) bridge.stop();
    }
  }, 30_000);

  test("bad setups fail closed with sandbox_error and leave nothing behind", () => {
    const broken = put(modelsFile({}), "{not json");
    const startWith = (file: string, bridgeRoot = join(root, "llm"), listen: "unix" | "loopback" = "unix") =>
      startLlmBridge({ root: bridgeRoot, modelsFile: file, listen, log: noLog });
    expect(() => startWith(broken)).toThrow(/is not JSON/);
    expect(() => startWith(put(join(root, "wrong.json"), '{"providers": {"a": {"baseUrl": 5}}}'))).toThrow(
      /not a pi models.json/,
    );
    const longRoot = join(root, "x".repeat(100));
    expect(() => startWith(broken, longRoot)).toThrow(/longer than 107 bytes/);
    expect(existsSync(longRoot)).toBe(false);
    // No socket, no limit.
    startWith(join(root, "none.json"), longRoot, "loopback").stop();

    // No models.json at all: the bridge runs, with nothing to overlay and nothing routed.
    const empty = startWith(join(root, "none.json"));
    expect(empty.modelsFile).toBeUndefined();
    empty.stop();
  });
});

/** An agent sandbox under `profile`, over a pi config with a real key, as the runner sets it up. */
function launchAgent(profile: string, command: string[]) {
  const base = join(root, `agent-${profile}`);
  const fixture = buildHome(join(base, "home"), profile);
  // The runner's hidden state: Oqto's pi config, the agents' private dirs, the caches.
  const state = join(base, "state");
  const piConfigDir = join(state, "pi");
  put(
    join(piConfigDir, "models.json"),
    JSON.stringify({
      providers: {
        fake: { baseUrl: upstreamBase(), api: "openai-completions", apiKey: "sk-in", models: [] },
      },
    }),
  );
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
      sessionDirFor: (_cwd, { sessionId }) => join(state, "sessions", sessionId),
      shimCommand: [process.execPath, join(REPO, "src/cli/main.ts"), "sandbox-shim"],
      shimPaths: [join(REPO, "src")],
      cacheRoot: join(state, "cache"),
      log: noLog,
    },
  });
  const launch = wrap(fixture.bareWorkspace, command, { sessionId: "s-bridge" });
  return { ...launch, env: { HOME: fixture.home, PATH: process.env.PATH ?? "", ...launch.env } };
}

/** Inside the sandbox: what pi would do with its models.json, and a try at the upstream directly. */
const probe = (hostConfig: string) =>
  [
    `const models = await Bun.file(process.env.PI_CODING_AGENT_DIR + "/models.json").text();`,
    "const { baseUrl, apiKey } = JSON.parse(models).providers.fake;",
    "console.log('base', baseUrl);",
    'const r = await fetch(baseUrl + "/models", { headers: { authorization: "Bearer " + apiKey, "x-echo": apiKey } });',
    "console.log('bridge', r.status, await r.text());",
    'const anon = await fetch(baseUrl + "/models");',
    "console.log('anonymous', anon.status);",
    `try { await fetch("http://127.0.0.1:${upstream.port}/v1/models"); console.log("direct open"); } catch (e) { console.log("direct closed"); }`,
    `console.log("config", await Bun.file(${JSON.stringify(hostConfig)}).exists());`,
    "console.log('models', models);",
  ].join("\n");

describe("the agent inside a real bwrap reaches the LLM only through its bridge", () => {
  for (const { profile, listen } of [
    { profile: "strict", listen: "unix" },
    { profile: "minimal", listen: "loopback" },
  ]) {
    test(`${profile} (${listen}): with the token from its models.json, and never sees the key`, async () => {
      received = [];
      const hostConfig = join(root, `agent-${profile}`, "state", "pi", "models.json");
      const { argv, env, release } = launchAgent(profile, [process.execPath, "-e", probe(hostConfig)]);
      try {
        const { stdout: out, stderr: err, code } = await runProcess(argv, { env });
        expect(err).toBe("");
        expect(code).toBe(0);
        const base = /^base (\S+)$/m.exec(out)?.[1] ?? "";
        if (listen === "unix") {
          expect(base).toBe(`http://127.0.0.1:${LLM_BRIDGE_PORT}/r0`);
          expect(out).toContain("direct closed");
        } else {
          expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/r0$/);
          expect(base).not.toContain(`:${LLM_BRIDGE_PORT}/`);
          expect(out).toContain("direct open");
        }
        expect(out).toMatch(/^bridge 200 /m);
        expect(out).toContain("anonymous 401");
        expect(out).toContain("config false");
        expect(out).toMatch(/"apiKey": "oqto-bridge-[0-9a-f]{32}"/);
        // The echo came back to the agent: the key was only ever in the header the upstream checks.
        const echo = JSON.parse(/^bridge 200 (.*)$/m.exec(out)?.[1] ?? "{}") as Echo;
        expect(echo.headers.authorization).toBe("Bearer sk-in");
        expect(echo.headers["x-echo"]).toMatch(/^oqto-bridge-/);
        expect(received.filter((seen) => seen.url === "/v1/models").length).toBe(listen === "unix" ? 1 : 2);
      } finally {
        release();
      }
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
      process.kill(shim as number, "SIGTERM");
      expect(await proc.exited).toBe(42);
    } finally {
      sleeper.release();
    }
  }, 30_000);
});
