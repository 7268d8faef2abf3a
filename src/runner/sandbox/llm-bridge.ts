import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { ProtocolError } from "../../protocol/common.ts";
import { BridgeableModelsJson, type BridgeRoute, bridgeModels } from "./bridge-models.ts";

/**
 * The port the shim listens on inside the sandbox. The sandbox has its own network namespace, so
 * the port is free by construction and can be fixed.
 */
export const LLM_BRIDGE_PORT = 47474;
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** Headers provider clients carry keys in: never forwarded, the bridge sets the real one itself. */
const AUTH_HEADERS = ["authorization", "x-api-key", "x-goog-api-key", "api-key"];

/** Hop-by-hop and framing headers: the bridge re-frames both directions. */
const DROPPED_REQUEST_HEADERS = [
  "host",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  // Bun's fetch decodes compressed bodies; asking for none keeps the relayed stream byte-exact.
  "accept-encoding",
  ...AUTH_HEADERS,
];
const DROPPED_RESPONSE_HEADERS = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "content-encoding",
];

export interface LlmBridge {
  /** The bridge's own dir (0700); holds the socket in "unix" mode and the rewritten models.json. */
  dir: string;
  /** "unix": the socket the shim inside the sandbox relays to. */
  socketPath?: string;
  /** "loopback": the port on the host's 127.0.0.1. */
  port?: number;
  /** The models.json the sandbox's pi reads (bridge URLs, the token as key), when there is one. */
  modelsFile?: string;
  /** What stands in for every key inside the sandbox; requests without it are refused. */
  token: string;
  stop(): void;
}

export interface LlmBridgeOptions {
  /** Directory (0700, the user's own) under which each bridge gets a short-named dir. */
  root: string;
  /** pi's models.json on the host (with the real base URLs and keys). */
  modelsFile: string;
  /**
   * "unix": a 0600 socket, for a sandbox without network (the shim relays its loopback port);
   * "loopback": the host's 127.0.0.1 on a free port, for a sandbox that shares the host's network.
   */
  listen: "unix" | "loopback";
  log: (message: string) => void;
}

function bridgeError(message: string): ProtocolError {
  return new ProtocolError("sandbox_error", `LLM bridge: ${message}`);
}

function errorResponse(status: number, code: string, error: string): Response {
  return Response.json({ error, code }, { status });
}

/** pi's models.json, or undefined when there is none (then nothing is bridged). */
function readModels(file: string) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw bridgeError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw bridgeError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = BridgeableModelsJson.safeParse(raw);
  if (!parsed.success) throw bridgeError(`${file} is not a pi models.json: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * The upstream URL for `rest` below a route's base, or undefined when normalisation would leave
 * the base (`..`, an encoded slash trick): the bridge reaches the configured endpoints and nothing else.
 */
export function upstreamUrl(base: URL, rest: string, search: string): URL | undefined {
  const basePath = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  const target = new URL(`${base.origin}${basePath}${rest}${search}`);
  if (target.origin !== base.origin || !target.pathname.startsWith(basePath)) return undefined;
  if (rest.split("/").some((segment) => segment === ".." || /%2e%2e|%2f/i.test(segment))) return undefined;
  return target;
}

/**
 * The provider's own auth header for pi's `api`: the one place the real key goes, so that no
 * echo of another header or of the query can hand it to the agent.
 */
function authHeader(api: string | undefined, key: string): [string, string] {
  if (api === "anthropic-messages") return ["x-api-key", key];
  if (api?.startsWith("google-")) return ["x-goog-api-key", key];
  return ["authorization", `Bearer ${key}`];
}

/** What a request offers as its key, wherever pi's provider clients put one. */
function presentedKeys(request: Request, url: URL): string[] {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const offered = [
    bearer,
    request.headers.get("x-api-key"),
    request.headers.get("x-goog-api-key"),
    url.searchParams.get("key"),
  ];
  return offered.filter((value): value is string => Boolean(value));
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function forward(request: Request, routes: Map<string, BridgeRoute>, token: string): Promise<Response> {
  const url = new URL(request.url);
  if (!presentedKeys(request, url).some((presented) => sameSecret(presented, token))) {
    return errorResponse(401, "unauthorized", "this LLM bridge needs its token as the API key");
  }
  const [, routeId = "", ...rest] = url.pathname.split("/");
  const route = routes.get(routeId);
  if (!route) return errorResponse(404, "not_found", `no LLM provider behind '/${routeId}' on this bridge`);
  // Only when present: URLSearchParams re-encodes the whole query it serialises.
  if (url.searchParams.has("key")) url.searchParams.delete("key");
  const target = upstreamUrl(route.upstream, rest.join("/"), url.search);
  if (!target) return errorResponse(400, "invalid_request", "the path leaves the provider's base URL");

  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!DROPPED_REQUEST_HEADERS.includes(name)) headers.set(name, value);
  });
  if (route.apiKey !== undefined) headers.set(...authHeader(route.api, route.apiKey));
  const body =
    request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: "manual",
      // pi aborting a request (abort, or the sandbox going away) cancels the upstream call too.
      signal: request.signal,
    });
  } catch (error) {
    return errorResponse(
      502,
      "bad_gateway",
      `the LLM at ${target.origin} is unreachable: ${(error as Error).message}`,
    );
  }
  const responseHeaders = new Headers(upstream.headers);
  for (const name of DROPPED_RESPONSE_HEADERS) responseHeaders.delete(name);
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}

/**
 * Starts one agent's LLM bridge (SANDBOX.md §5): an HTTP reverse proxy, on a 0600 unix socket in
 * a fresh 0700 dir or on the host's loopback, forwarding only to the base URLs of pi's
 * models.json, only for requests that carry its token, with streaming passthrough. The caller
 * gives the sandbox `modelsFile` (and the socket's dir) and stops the bridge when the agent exits.
 */
export function startLlmBridge(options: LlmBridgeOptions): LlmBridge {
  const dir = join(options.root, randomBytes(4).toString("hex"));
  const socketPath = join(dir, "llm.sock");
  if (options.listen === "unix" && Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw bridgeError(
      `socket path '${socketPath}' is longer than ${MAX_SOCKET_PATH} bytes; use a shorter data dir`,
    );
  }
  const models = readModels(options.modelsFile);
  // Fresh per bridge: it admits only this sandbox's pi, not other local processes or sandboxes.
  const token = `oqto-bridge-${randomBytes(16).toString("hex")}`;
  mkdirSync(options.root, { recursive: true, mode: 0o700 });
  mkdirSync(dir, { mode: 0o700 });
  // Filled once the server listens: a loopback bridge's URLs carry the port it got.
  let routes = new Map<string, BridgeRoute>();
  const handlers = {
    // LLM streams pause for as long as the model thinks (the 10 s default cut them off); pi and
    // the upstream own the timeouts.
    idleTimeout: 0,
    fetch: (request: Request) => forward(request, routes, token),
    error: (error: Error) => {
      options.log(`LLM bridge: ${error.message}`);
      return errorResponse(502, "bad_gateway", error.message);
    },
  };
  let server: Server<undefined> | undefined;
  const umask = process.umask(0o177);
  try {
    server =
      options.listen === "unix"
        ? // @ts-expect-error Bun's types omit idleTimeout for unix sockets; its runtime honours it.
          Bun.serve({ unix: socketPath, ...handlers })
        : Bun.serve({ hostname: "127.0.0.1", port: 0, ...handlers });
    const port = options.listen === "unix" ? LLM_BRIDGE_PORT : (server.port as number);
    const bridged = bridgeModels(models ?? { providers: {} }, `http://127.0.0.1:${port}`, token);
    routes = bridged.routes;
    const modelsFile = models ? join(dir, "models.json") : undefined;
    if (modelsFile)
      writeFileSync(modelsFile, `${JSON.stringify(bridged.modelsJson, null, 2)}\n`, { mode: 0o600 });
    const running = server;
    return {
      dir,
      token,
      ...(options.listen === "unix" ? { socketPath } : { port }),
      ...(modelsFile ? { modelsFile } : {}),
      stop: () => {
        void running.stop(true);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    void server?.stop(true);
    rmSync(dir, { recursive: true, force: true });
    throw error instanceof ProtocolError ? error : bridgeError((error as Error).message);
  } finally {
    process.umask(umask);
  }
}
