import type { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";
import { noneMatch } from "../routes/byte-range.ts";

interface Published {
  body: string;
  etag: string;
}

/**
 * `GET /api/openapi.json` (public: the API's shape is no secret). Registered among the public
 * routes, it builds the document at its first request, from the router's list as it stands
 * then (every route registered), and keeps it. Loading zod-openapi and building take a few
 * hundred ms, which neither serve's start nor an app in a test should pay unasked.
 */
export function registerOpenApiRoute(app: Hono<AppEnv>, version: string): void {
  let published: Promise<Published> | undefined;
  const build = async (): Promise<Published> => {
    const { buildOpenApiDocument } = await import("./document.ts");
    const body = JSON.stringify(buildOpenApiDocument(app.routes, version));
    const digest = new Bun.CryptoHasher("sha256").update(body).digest("base64url");
    return { body, etag: `"${digest.slice(0, 32)}"` };
  };
  app.get("/api/openapi.json", async (c) => {
    published ??= build();
    const { body, etag } = await published;
    const headers = { etag, "cache-control": "no-cache" };
    if (noneMatch(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
    return c.body(body, 200, { ...headers, "content-type": "application/json; charset=utf-8" });
  });
}
