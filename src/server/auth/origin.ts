import type { Config } from "../../config/schema.ts";

/**
 * CSRF rule for cookie-authenticated requests: the browser-set `Origin` must be the server's own origin or
 * one listed in `server.allowed_origins`. A missing or unparsable Origin fails.
 */
export function isOriginAllowed(req: Request, config: Config): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return false;
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return false;
  }
  if (normalized === "null") return false;
  if (normalized === new URL(req.url).origin) return true;
  return config.server.allowed_origins.some((allowed) => new URL(allowed).origin === normalized);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}
