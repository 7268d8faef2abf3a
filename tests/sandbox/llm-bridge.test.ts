/**
 * The LLM bridge (SANDBOX.md §5) on its own: the models.json rewrite, the reverse proxy on its
 * unix socket against a real upstream, and `oqto sandbox-shim` inside a real network-isolated bwrap.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import { BRIDGE_API_KEY, bridgeModels } from "../../src/runner/sandbox/bridge-models.ts";
import { LLM_BRIDGE_PORT, startLlmBridge, upstreamUrl } from "../../src/runner/sandbox/llm-bridge.ts";
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

interface Seen {
  path: string;
  authorization: string | null;
  apiKeyHeader: string | null;
  body: string;
}

let upstream: Server<undefined>;
let seen: Seen[] = [];
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "oqto-br-"));
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      seen.push({
        path: `${url.pathname}${url.search}`,
        authorization: request.headers.get("authorization"),
        apiKeyHeader: request.headers.get("x-api-key"),
        body: await request.text(),
      });
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
      return Response.json(
        { ok: true, path: url.pathname },
        { status: url.pathname.endsWith("/teapot") ? 418 : 200 },
      );
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

const upstreamBase = () => `http://127.0.0.1:${upstream.port}/v1`;

describe("models.json rewrite", () => {
  test("points every provider and model base URL at the bridge and hides every key", () => {
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
            models: [{ id: "x", baseUrl: "http://10.0.0.6/v2" }],
          },
          c: { baseUrl: "unix:/run/llm.sock", models: [] },
        },
      },
      "http://127.0.0.1:1",
    );
    const providers = modelsJson.providers as Record<string, Record<string, unknown>>;
    expect(providers.a).toEqual({
      baseUrl: "http://127.0.0.1:1/r0",
      apiKey: BRIDGE_API_KEY,
      api: "openai-completions",
      models: [{ id: "m" }],
    });
    expect(providers.b?.baseUrl).toBe("http://127.0.0.1:1/r1");
    expect(providers.b?.models).toEqual([{ id: "x", baseUrl: "http://127.0.0.1:1/r2" }]);
    // Not http(s): left alone and not routed.
    expect(providers.c?.baseUrl).toBe("unix:/run/llm.sock");
    expect([...routes.keys()]).toEqual(["r0", "r1", "r2"]);
    expect(routes.get("r2")).toEqual({ upstream: new URL("http://10.0.0.6/v2"), apiKey: "sk-b" });
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

describe("the bridge's reverse proxy", () => {
  test("forwards to the provider with the real key, on a 0600 socket in a 0700 dir, and cleans up", async () => {
    const bridge = startLlmBridge({
      root: join(root, "llm"),
      modelsFile: modelsFile({ fake: { baseUrl: upstreamBase(), apiKey: "sk-real", models: [{ id: "m" }] } }),
      log: noLog,
    });
    try {
      expect(statSync(bridge.dir).mode & 0o777).toBe(0o700);
      expect(statSync(bridge.socketPath).mode & 0o777).toBe(0o600);
      const inside = JSON.parse(readFileSync(bridge.modelsFile as string, "utf8"));
      expect(inside.providers.fake.baseUrl).toBe(`http://127.0.0.1:${LLM_BRIDGE_PORT}/r0`);
      expect(inside.providers.fake.apiKey).toBe(BRIDGE_API_KEY);

      seen = [];
      const res = await fetch(
        `http://127.0.0.1:${LLM_BRIDGE_PORT}/r0/chat/completions?key=${BRIDGE_API_KEY}`,
        {
          unix: bridge.socketPath,
          method: "POST",
          headers: { authorization: `Bearer ${BRIDGE_API_KEY}`, "x-api-key": BRIDGE_API_KEY },
          body: '{"model":"m"}',
        },
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, path: "/v1/chat/completions" });
      expect(seen).toEqual([
        {
          path: "/v1/chat/completions?key=sk-real",
          authorization: "Bearer sk-real",
          apiKeyHeader: "sk-real",
          body: '{"model":"m"}',
        },
      ]);

      // Upstream statuses pass through untouched.
      const teapot = await fetch(`http://x/r0/teapot`, { unix: bridge.socketPath });
      expect(teapot.status).toBe(418);

      const unknown = await fetch("http://x/r9/chat/completions", { unix: bridge.socketPath });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ code: "not_found" });
      // fetch would normalise the path itself; a raw request shows what the bridge does with it.
      const escaped = await rawGet(bridge.socketPath, "/r0/..%2Fadmin");
      expect(escaped).toStartWith("HTTP/1.1 400");
      expect(escaped).toContain('"code":"invalid_request"');
    } finally {
      bridge.stop();
    }
    expect(existsSync(bridge.dir)).toBe(false);
  });

  test("an unreachable provider is a 502 with {error, code}, and the bridge keeps serving", async () => {
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadPort = dead.port;
    await dead.stop(true);
    const bridge = startLlmBridge({
      root: join(root, "llm"),
      modelsFile: modelsFile({
        gone: { baseUrl: `http://127.0.0.1:${deadPort}/v1`, apiKey: "k" },
        live: { baseUrl: upstreamBase(), apiKey: "k" },
      }),
      log: noLog,
    });
    try {
      const res = await fetch("http://x/r0/models", { unix: bridge.socketPath });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code).toBe("bad_gateway");
      expect(body.error).toContain("unreachable");
      expect((await fetch("http://x/r1/models", { unix: bridge.socketPath })).status).toBe(200);
    } finally {
      bridge.stop();
    }
  });

  test("a stream that pauses longer than 10 s is relayed whole", async () => {
    const bridge = startLlmBridge({
      root: join(root, "llm"),
      modelsFile: modelsFile({ fake: { baseUrl: upstreamBase(), apiKey: "k" } }),
      log: noLog,
    });
    try {
      const res = await fetch("http://x/r0/slow", { unix: bridge.socketPath });
      expect(await res.text()).toBe("data: first\n\ndata: second\n\n");
    } finally {
      bridge.stop();
    }
  }, 30_000);

  test("bad setups fail closed with sandbox_error and leave nothing behind", () => {
    const broken = modelsFile({});
    Bun.write(broken, "{not json");
    expect(() => startLlmBridge({ root: join(root, "llm"), modelsFile: broken, log: noLog })).toThrow(
      /is not JSON/,
    );
    const wrongShape = put(join(root, "wrong.json"), '{"providers": {"a": {"baseUrl": 5}}}');
    expect(() => startLlmBridge({ root: join(root, "llm"), modelsFile: wrongShape, log: noLog })).toThrow(
      /not a pi models.json/,
    );
    const longRoot = join(root, "x".repeat(100));
    expect(() => startLlmBridge({ root: longRoot, modelsFile: broken, log: noLog })).toThrow(
      /longer than 107 bytes/,
    );
    expect(existsSync(longRoot)).toBe(false);

    // No models.json at all: the bridge runs, with nothing to overlay and nothing routed.
    const empty = startLlmBridge({
      root: join(root, "llm"),
      modelsFile: join(root, "none.json"),
      log: noLog,
    });
    expect(empty.modelsFile).toBeUndefined();
    empty.stop();
  });
});

describe("oqto sandbox-shim inside a network-isolated bwrap", () => {
  const home = () => join(root, "home");
  const launch = (command: string[]) => {
    const fixture = buildHome(home(), "strict");
    const agentDir = join(home(), ".pi", "agent");
    put(
      join(agentDir, "models.json"),
      JSON.stringify({ providers: { fake: { baseUrl: upstreamBase(), apiKey: "sk-in" } } }),
    );
    const wrap = agentSandbox({
      systemFile: fixture.systemFile,
      home: home(),
      multiUser: false,
      hiddenPaths: [],
      cacheRoot: join(root, "cache"),
      bridge: {
        root: join(root, "run"),
        agentDir,
        shimCommand: [process.execPath, join(REPO, "src/cli/main.ts"), "sandbox-shim"],
        shimPaths: [join(REPO, "src")],
        log: noLog,
      },
    });
    return wrap(fixture.bareWorkspace, command);
  };

  test("the agent reaches the LLM through the bridge, sees only placeholder keys, and nothing else", async () => {
    const probe = [
      `const r = await fetch("http://127.0.0.1:${LLM_BRIDGE_PORT}/r0/models", { headers: { authorization: "Bearer ${BRIDGE_API_KEY}" } });`,
      "console.log('bridge', r.status, JSON.stringify(await r.json()));",
      `try { await fetch("http://127.0.0.1:${upstream.port}/v1/models"); console.log("direct open"); } catch (e) { console.log("direct closed"); }`,
      `console.log("models", await Bun.file(process.env.HOME + "/.pi/agent/models.json").text());`,
    ].join("\n");
    seen = [];
    const { argv, release } = launch([process.execPath, "-e", probe]);
    try {
      const {
        stdout: out,
        stderr: err,
        code,
      } = await runProcess(argv, {
        env: { HOME: home(), PATH: process.env.PATH ?? "" },
      });
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(out).toContain('bridge 200 {"ok":true,"path":"/v1/models"}');
      expect(out).toContain("direct closed");
      expect(out).toContain(BRIDGE_API_KEY);
      expect(out).not.toContain("sk-in");
      expect(seen.map((s) => s.authorization)).toEqual(["Bearer sk-in"]);
    } finally {
      release();
    }
  }, 30_000);

  test("the agent's exit status and signals pass through the shim", async () => {
    const exit = launch(["/bin/sh", "-c", "exit 7"]);
    try {
      const proc = Bun.spawn(exit.argv, {
        env: { HOME: home(), PATH: process.env.PATH ?? "" },
        stderr: "pipe",
      });
      expect(await proc.exited).toBe(7);
    } finally {
      exit.release();
    }
    const sleeper = launch([
      "/bin/sh",
      "-c",
      "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    try {
      const proc = Bun.spawn(sleeper.argv, {
        env: { HOME: home(), PATH: process.env.PATH ?? "" },
        stdout: "pipe",
      });
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
