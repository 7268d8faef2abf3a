import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { ProtocolError } from "../../protocol/common.ts";
import { BRIDGE_API_KEY, BridgeableModelsJson, type BridgeRoute, bridgeModels } from "./bridge-models.ts";

/**
 * The port the shim listens on inside the sandbox. The sandbox has its own network namespace, so
 * the port is free by construction and can be fixed.
 */
export const LLM_BRIDGE_PORT = 47474;
const LOCAL_BASE = `http://127.0.0.1:${LLM_BRIDGE_PORT}`;
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

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
];
const DROPPED_RESPONSE_HEADERS = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "content-encoding",
];

export interface LlmBridge {
  /** Bound into the sandbox read-write (SANDBOX.md §4 step 11); holds the socket. */
  dir: string;
  socketPath: string;
  /** The rewritten models.json to bind over pi's, when the agent dir has one. */
  modelsFile?: string;
  stop(): void;
}

export interface LlmBridgeOptions {
  /** Directory (0700, the user's own) under which each bridge gets a short-named dir. */
  root: string;
  /** pi's models.json on the host (with the real base URLs and keys). */
  modelsFile: string;
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

async function forward(request: Request, routes: Map<string, BridgeRoute>): Promise<Response> {
  const url = new URL(request.url);
  const [, routeId = "", ...rest] = url.pathname.split("/");
  const route = routes.get(routeId);
  if (!route) return errorResponse(404, "not_found", `no LLM provider behind '/${routeId}' on this bridge`);
  const withKey = (value: string) =>
    route.apiKey === undefined ? value : value.replaceAll(BRIDGE_API_KEY, route.apiKey);
  const target = upstreamUrl(route.upstream, rest.join("/"), withKey(url.search));
  if (!target) return errorResponse(400, "invalid_request", "the path leaves the provider's base URL");

  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!DROPPED_REQUEST_HEADERS.includes(name)) headers.set(name, withKey(value));
  });
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
 * Starts one session's LLM bridge (SANDBOX.md §5): an HTTP reverse proxy on a 0600 unix socket in
 * a fresh 0700 dir, forwarding only to the base URLs of pi's models.json, with streaming
 * passthrough. The caller binds `dir` (and `modelsFile` over pi's models.json) into the sandbox
 * and stops the bridge when the agent exits.
 */
export function startLlmBridge(options: LlmBridgeOptions): LlmBridge {
  const dir = join(options.root, randomBytes(4).toString("hex"));
  const socketPath = join(dir, "llm.sock");
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw bridgeError(
      `socket path '${socketPath}' is longer than ${MAX_SOCKET_PATH} bytes; use a shorter data dir`,
    );
  }
  const models = readModels(options.modelsFile);
  const bridged = bridgeModels(models ?? { providers: {} }, LOCAL_BASE);
  mkdirSync(options.root, { recursive: true, mode: 0o700 });
  mkdirSync(dir, { mode: 0o700 });
  let server: Server<undefined>;
  const umask = process.umask(0o177);
  try {
    const modelsFile = models ? join(dir, "models.json") : undefined;
    if (modelsFile)
      writeFileSync(modelsFile, `${JSON.stringify(bridged.modelsJson, null, 2)}\n`, { mode: 0o600 });
    // LLM streams pause for as long as the model thinks (the 10 s default cut them off); pi and
    // the upstream own the timeouts. Bun's types omit idleTimeout for unix sockets; its runtime honours it.
    // @ts-expect-error idleTimeout on a unix socket
    server = Bun.serve({
      unix: socketPath,
      idleTimeout: 0,
      fetch: (request) => forward(request, bridged.routes),
      error: (error) => {
        options.log(`LLM bridge: ${error.message}`);
        return errorResponse(502, "bad_gateway", error.message);
      },
    });
    return {
      dir,
      socketPath,
      ...(modelsFile ? { modelsFile } : {}),
      stop: () => {
        void server.stop(true);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error instanceof ProtocolError ? error : bridgeError((error as Error).message);
  } finally {
    process.umask(umask);
  }
}
