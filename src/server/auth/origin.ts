import { networkInterfaces } from "node:os";
import type { Config } from "../../config/schema.ts";

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

function originOf(host: string, port: number): string {
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return new URL(`http://${bracketed}:${port}`).origin;
}

/** The machine's own addresses, for a server that listens on all of them. */
function interfaceHosts(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((address) => (address ? [address.address.replace(/%.*$/, "")] : []));
}

/**
 * The origins a browser may send cookie-authenticated changes from (CSRF rule), taken from
 * configuration only, never from the request's Host header (which whoever sends the request
 * chooses): `server.public_url`, `server.allowed_origins`, and once serve listens, its own
 * address on its port (the loopback names, and every local address when it listens on all).
 */
export class AllowedOrigins {
  readonly #origins = new Set<string>();

  constructor(config: Config) {
    const { public_url, allowed_origins } = config.server;
    for (const url of public_url ? [public_url, ...allowed_origins] : allowed_origins)
      this.#origins.add(new URL(url).origin);
  }

  /** Called once serve listens on `host:port`. */
  addListener(host: string, port: number): void {
    const hosts = WILDCARD_HOSTS.has(host)
      ? [...LOOPBACK_HOSTS, ...interfaceHosts()]
      : [host, ...LOOPBACK_HOSTS];
    for (const name of hosts) this.#origins.add(originOf(name, port));
  }

  list(): string[] {
    return [...this.#origins];
  }

  /** A missing, opaque ("null") or unparsable Origin is never allowed. */
  allows(req: Request): boolean {
    const origin = req.headers.get("origin");
    if (origin === null) return false;
    try {
      return this.#origins.has(new URL(origin).origin);
    } catch {
      return false;
    }
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}
