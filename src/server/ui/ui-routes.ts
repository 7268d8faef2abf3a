import type { Context, Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";
import { matchesIfNoneMatch, preferredEncoding } from "./content-negotiation.ts";
import type { UiAsset, UiAssets } from "./ui-assets.ts";
import { UI_ENCODINGS } from "./ui-compression.ts";

/**
 * The UI page's policy. Script only from our own files, never inline; nothing loads from another
 * origin (an image beacon in an agent's answer cannot leave); nothing may frame the app. Inline
 * styles stay allowed: xterm paints with `<style>` elements it creates, and style cannot run code.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "media-src 'self' blob:",
  // 'self' covers the mux WebSocket on our own host and port (CSP Level 3).
  "connect-src 'self'",
  // File previews: our own file route, itself served with `sandbox`.
  "frame-src 'self'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The REST and WebSocket namespace; everything else is the UI. */
export function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/");
}

/** A missing chunk is a 404, never the page: HTML served as a script would only confuse. */
function looksLikeFile(path: string): boolean {
  return /\.[a-z0-9]+$/i.test(path.slice(path.lastIndexOf("/") + 1));
}

async function send(c: Context<AppEnv>, asset: UiAsset): Promise<Response> {
  const encoded = await asset.encoded();
  const available = UI_ENCODINGS.filter((encoding) => encoded[encoding] !== undefined);
  const encoding = preferredEncoding(c.req.header("accept-encoding"), available);
  const chosen = (encoding === "identity" ? undefined : encoded[encoding]) ?? asset.identity;
  const headers = new Headers({
    "content-security-policy": UI_CONTENT_SECURITY_POLICY,
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    etag: chosen.etag,
    // Caches between us and the browser must key the bytes by the encoding asked for.
    vary: "Accept-Encoding",
  });
  if (matchesIfNoneMatch(c.req.header("if-none-match"), chosen.etag))
    return new Response(null, { status: 304, headers });
  headers.set("content-type", asset.contentType);
  if (encoding !== "identity") headers.set("content-encoding", encoding);
  return new Response(chosen.body, { headers });
}

/** Every GET outside /api is the single-page UI: a chunk by its hashed name, else the page itself. */
export function registerUiRoutes(app: Hono<AppEnv>, ui: UiAssets): void {
  app.get("*", (c) => {
    const path = c.req.path;
    if (isApiPath(path)) return c.notFound();
    const chunk = ui.byPath.get(path);
    if (chunk) return send(c, chunk);
    if (looksLikeFile(path)) return c.notFound();
    return send(c, ui.index);
  });
}
