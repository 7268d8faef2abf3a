/**
 * The UI's files over a real socket, as the server loads them from source (compressed at start) and
 * as `bun run build` prebuilds them (compressed once, read from disk): each encoding decodes to the
 * identity bytes, with its own ETag, `Vary`, a correct Content-Length, long-lived caching for hashed
 * chunks, `no-cache` for the page, and 304s per encoding.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Hono } from "hono";
import type { AppEnv } from "../../src/server/auth/index.ts";
import { matchesIfNoneMatch, preferredEncoding } from "../../src/server/ui/content-negotiation.ts";
import { readPrebuiltUi, writePrebuiltUi } from "../../src/server/ui/prebuilt-ui.ts";
import { loadUiAssets, type UiAssets } from "../../src/server/ui/ui-assets.ts";
import { buildUi } from "../../src/server/ui/ui-build.ts";
import { registerUiRoutes } from "../../src/server/ui/ui-routes.ts";

const INDEX_HTML = resolve(import.meta.dir, "../../ui/index.html");

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http, because it hands back the bytes as sent (Bun's fetch decodes them). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((done, fail) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

function serve(ui: UiAssets) {
  const app = new Hono<AppEnv>();
  registerUiRoutes(app, ui);
  return Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
}

const prebuiltDir = mkdtempSync("/tmp/oqto-ui-prebuilt-");
const servers: { name: string; url: string; stop: () => void }[] = [];

beforeAll(async () => {
  const fromSource = serve(await loadUiAssets(INDEX_HTML));
  await writePrebuiltUi(prebuiltDir, await buildUi(INDEX_HTML));
  const prebuilt = serve(await readPrebuiltUi(prebuiltDir));
  servers.push(
    { name: "from source", url: fromSource.url.href, stop: () => fromSource.stop(true) },
    { name: "prebuilt", url: prebuilt.url.href, stop: () => prebuilt.stop(true) },
  );
}, 60_000);

afterAll(() => {
  for (const server of servers) server.stop();
  rmSync(prebuiltDir, { recursive: true, force: true });
});

/** The page and every file it names (scripts and stylesheets). */
async function pagePaths(base: string): Promise<string[]> {
  const html = (await rawGet(`${base}login`, { "accept-encoding": "identity" })).body.toString();
  const referenced = [...html.matchAll(/(?:src|href)="(\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
  expect(referenced.length).toBeGreaterThanOrEqual(2);
  return ["/", ...referenced];
}

for (const which of ["from source", "prebuilt"]) {
  describe(`UI files ${which}`, () => {
    const base = () => servers.find((s) => s.name === which)?.url ?? "";

    test("br and gzip decode to the identity bytes, each with its own ETag, Vary and length", async () => {
      for (const path of await pagePaths(base())) {
        const url = new URL(path, base()).href;
        const identity = await rawGet(url, { "accept-encoding": "identity" });
        const br = await rawGet(url, { "accept-encoding": "gzip, deflate, br, zstd" });
        const gzip = await rawGet(url, { "accept-encoding": "gzip" });
        for (const res of [identity, br, gzip]) {
          expect(res.status).toBe(200);
          expect(res.headers.vary).toBe("Accept-Encoding");
          expect(Number(res.headers["content-length"])).toBe(res.body.length);
        }
        expect(identity.headers["content-encoding"]).toBeUndefined();
        expect(br.headers["content-encoding"]).toBe("br");
        expect(gzip.headers["content-encoding"]).toBe("gzip");
        expect(Buffer.from(brotliDecompressSync(br.body)).equals(identity.body)).toBe(true);
        expect(Buffer.from(gunzipSync(gzip.body)).equals(identity.body)).toBe(true);
        expect(br.body.length).toBeLessThan(gzip.body.length);
        expect(gzip.body.length).toBeLessThan(identity.body.length);
        const etags = new Set([identity, br, gzip].map((r) => r.headers.etag));
        expect(etags.size).toBe(3);
        expect(br.headers["content-type"]).toBe(identity.headers["content-type"]);
      }
    });

    test("hashed chunks are immutable for a year, the page is revalidated every time", async () => {
      for (const path of await pagePaths(base())) {
        const res = await rawGet(new URL(path, base()).href, { "accept-encoding": "br" });
        expect(res.headers["cache-control"]).toBe(
          path === "/" ? "no-cache" : "public, max-age=31536000, immutable",
        );
      }
      // Every client route is the same page.
      const page = await rawGet(new URL("/w/demo/s/x", base()).href, { "accept-encoding": "br" });
      expect(page.headers["cache-control"]).toBe("no-cache");
      expect(page.headers["content-type"]).toContain("text/html");
    });

    test("If-None-Match gives a 304 for the same encoding only", async () => {
      for (const path of await pagePaths(base())) {
        const url = new URL(path, base()).href;
        const br = await rawGet(url, { "accept-encoding": "br" });
        const etag = String(br.headers.etag);
        const revalidated = await rawGet(url, { "accept-encoding": "br", "if-none-match": etag });
        expect(revalidated.status).toBe(304);
        expect(revalidated.body.length).toBe(0);
        expect(revalidated.headers.etag).toBe(etag);
        expect(revalidated.headers.vary).toBe("Accept-Encoding");
        expect(revalidated.headers["cache-control"]).toBe(String(br.headers["cache-control"]));
        // The brotli ETag does not validate the gzip bytes a gzip-only client needs.
        const other = await rawGet(url, { "accept-encoding": "gzip", "if-none-match": etag });
        expect(other.status).toBe(200);
        expect(other.headers["content-encoding"]).toBe("gzip");
        const weak = await rawGet(url, { "accept-encoding": "br", "if-none-match": `"nope", W/${etag}` });
        expect(weak.status).toBe(304);
      }
    });

    test("a missing chunk is a 404, not the page", async () => {
      const res = await rawGet(new URL("/chunk-missing.js", base()).href, { "accept-encoding": "br" });
      expect(res.status).toBe(404);
    });
  });
}

test("the prebuilt folder holds each file with its .br and .gz and the manifest", () => {
  const names = readdirSync(prebuiltDir);
  expect(names).toContain("ui-manifest.json");
  const js = names.filter((n) => n.endsWith(".js"));
  expect(js.length).toBeGreaterThanOrEqual(3);
  for (const name of js) {
    expect(names).toContain(`${name}.br`);
    expect(names).toContain(`${name}.gz`);
    expect(statSync(join(prebuiltDir, `${name}.br`)).size).toBeLessThan(
      statSync(join(prebuiltDir, name)).size,
    );
  }
});

describe("Accept-Encoding negotiation", () => {
  const both = ["br", "gzip"] as const;
  test.each([
    [undefined, "identity"],
    ["", "identity"],
    ["identity", "identity"],
    ["gzip, deflate, br, zstd", "br"],
    ["gzip", "gzip"],
    ["GZIP;q=1.0", "gzip"],
    ["br;q=0, gzip", "gzip"],
    ["br;q=0.5, gzip;q=0.9", "gzip"],
    ["br;q=0.9, gzip;q=0.9", "br"],
    ["*", "br"],
    ["*;q=0", "identity"],
    ["deflate, zstd", "identity"],
  ] as const)("%p → %p", (header, expected) => {
    expect(preferredEncoding(header, both)).toBe(expected);
  });

  test("only encodings the file has are chosen", () => {
    expect(preferredEncoding("br, gzip", ["gzip"])).toBe("gzip");
    expect(preferredEncoding("br", [])).toBe("identity");
  });

  test("If-None-Match lists, weak tags and *", () => {
    expect(matchesIfNoneMatch('"a", "b.br"', '"b.br"')).toBe(true);
    expect(matchesIfNoneMatch('W/"b.br"', '"b.br"')).toBe(true);
    expect(matchesIfNoneMatch("*", '"b"')).toBe(true);
    expect(matchesIfNoneMatch('"b"', '"b.br"')).toBe(false);
    expect(matchesIfNoneMatch(undefined, '"b"')).toBe(false);
  });
});
