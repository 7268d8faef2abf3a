import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { ProtocolError } from "../../protocol/common.ts";
import { RELAY_DROPPED_REQUEST_HEADERS, RELAY_DROPPED_RESPONSE_HEADERS } from "../../shared/relay-headers.ts";
import { upstreamUrl } from "../../shared/upstream-url.ts";
import { BridgeableModelsJson, bridgeModels } from "./bridge-models.ts";

/**
 * The port the shim listens on inside the sandbox. The sandbox has its own network namespace, so
 * the port is free by construction and can be fixed.
 */
export const LLM_BRIDGE_PORT = 47474;
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface LlmBridge {
  /** The bridge's own dir (0700): holds the socket and the rewritten models.json. */
  dir: string;
  /** The socket the shim inside the sandbox relays to. */
  socketPath: string;
  /** The models.json the sandbox's pi reads (bridge URLs), when there is one. */
  modelsFile?: string;
  stop(): void;
}

export interface LlmBridgeOptions {
  /** Directory (0700, the user's own) under which each bridge gets a short-named dir. */
  root: string;
  /** pi's models.json on the host (base URLs on the gateway, no keys). */
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

async function forward(request: Request, routes: Map<string, URL>): Promise<Response> {
  const url = new URL(request.url);
  const [, routeId = "", ...rest] = url.pathname.split("/");
  const base = routes.get(routeId);
  if (!base) return errorResponse(404, "not_found", `no LLM provider behind '/${routeId}' on this bridge`);
  const target = upstreamUrl(base, rest.join("/"), url.search);
  if (!target) return errorResponse(400, "invalid_request", "the path leaves the provider's base URL");

  const headers = new Headers();
  request.headers.forEach((value, name) => {
    // Credentials pass unchanged: the gateway checks the token.
    if (!RELAY_DROPPED_REQUEST_HEADERS.includes(name)) headers.set(name, value);
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
      `the LLM gateway at ${target.origin} is unreachable: ${(error as Error).message}`,
    );
  }
  const responseHeaders = new Headers(upstream.headers);
  for (const name of RELAY_DROPPED_RESPONSE_HEADERS) responseHeaders.delete(name);
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}

/**
 * Starts one network-isolated agent's LLM bridge (SANDBOX.md §5): an HTTP reverse proxy on a 0600 unix
 * socket in a fresh 0700 dir, forwarding only to the base URLs of pi's models.json (the gateway), with
 * streaming passthrough. It adds no credential: pi's own LLM token travels through to the gateway. The
 * caller gives the sandbox `modelsFile` (and the socket's dir) and stops the bridge when the agent exits.
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
  mkdirSync(options.root, { recursive: true, mode: 0o700 });
  mkdirSync(dir, { mode: 0o700 });
  const bridged = bridgeModels(models ?? { providers: {} }, `http://127.0.0.1:${LLM_BRIDGE_PORT}`);
  let server: Server<undefined> | undefined;
  const umask = process.umask(0o177);
  try {
    // @ts-expect-error Bun's types omit idleTimeout for unix sockets; its runtime honours it.
    server = Bun.serve({
      unix: socketPath,
      // LLM streams pause for as long as the model thinks (the 10 s default cut them off); pi and
      // the gateway own the timeouts.
      idleTimeout: 0,
      fetch: (request: Request) => forward(request, bridged.routes),
      error: (error: Error) => {
        options.log(`LLM bridge: ${error.message}`);
        return errorResponse(502, "bad_gateway", error.message);
      },
    });
    const modelsFile = models ? join(dir, "models.json") : undefined;
    if (modelsFile)
      writeFileSync(modelsFile, `${JSON.stringify(bridged.modelsJson, null, 2)}\n`, { mode: 0o600 });
    const running = server;
    return {
      dir,
      socketPath,
      ...(modelsFile ? { modelsFile } : {}),
      stop: () => {
        void running?.stop(true);
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
