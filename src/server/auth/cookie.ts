import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import type { Config } from "../../config/schema.ts";

/** The session cookie (PROTOCOL.md §4.3). */
export const AUTH_COOKIE = "auth_token";

/**
 * `auto`: Secure unless the request itself came over plain HTTP (local development). The URL is
 * not parsed: Bun builds it from the Host header, which need not parse (`%zz`, `host:99999`), and
 * may even leave it relative; either way its scheme, when there is one, is the connection's.
 */
function isSecure(config: Config, requestUrl: string): boolean {
  switch (config.server.secure_cookies) {
    case "always":
      return true;
    case "never":
      return false;
    case "auto":
      return !requestUrl.startsWith("http://");
  }
}

function writeCookie(c: Context, config: Config, value: string, maxAge: number): void {
  setCookie(c, AUTH_COOKIE, value, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    maxAge,
    secure: isSecure(config, c.req.url),
  });
}

export function setAuthCookie(c: Context, config: Config, token: string): void {
  writeCookie(c, config, token, config.auth.token_ttl_s);
}

export function clearAuthCookie(c: Context, config: Config): void {
  writeCookie(c, config, "", 0);
}

export function readAuthCookie(req: Request): string | null {
  const header = req.headers.get("cookie");
  if (header === null) return null;
  const value = new Bun.CookieMap(header).get(AUTH_COOKIE);
  return value === null || value === "" ? null : value;
}
