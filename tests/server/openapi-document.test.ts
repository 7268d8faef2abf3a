/**
 * How the OpenAPI document is made (issue 16, point 2): from the app's own router, so a route
 * nobody described shows up marked and a described one the app does not serve is left out; and
 * its response schemas are strict enough that an answer with an undocumented field fails them.
 * A real app (SQLite, auth, routes) answers through `app.request()`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { ROUTE_CATALOGUE, UNDOCUMENTED } from "../../src/server/openapi/document.ts";
import { openApiPath } from "../../src/server/openapi/route-doc.ts";
import { addUser, BASE, bearer, createTestServer, login, type TestServer } from "./helpers.ts";

type Document = { paths: Record<string, Record<string, Record<string, unknown>>> };

let server: TestServer;
let doc: Document;
let token: string;

beforeAll(async () => {
  server = createTestServer("", (app) => {
    // A route someone added without describing it.
    app.get("/api/extra/:thing", (c) => c.json({ thing: c.req.param("thing") }));
  });
  await addUser(server.store, "doc-admin", "a-long-passphrase-for-docs", "admin");
  token = (await login(server.app, "doc-admin", "a-long-passphrase-for-docs")).token;
  const res = await server.app.request(`${BASE}/api/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});

afterAll(() => server.close());

describe("the document follows the router", () => {
  test("a route the router holds but nobody described is in it, marked", () => {
    const extra = doc.paths["/api/extra/{thing}"]?.get;
    expect(extra?.[UNDOCUMENTED]).toBe(true);
    const marked = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => operation[UNDOCUMENTED])
        .map(([method]) => `${method} ${path}`),
    );
    expect(marked).toEqual(["get /api/extra/{thing}"]);
  });

  test("a described route this app does not register is left out; the endpoints before the app stay", () => {
    // createTestServer has no runner, so no session, workspace or file routes, and no UI.
    expect(doc.paths["/api/sessions"]).toBeUndefined();
    expect(doc.paths["/api/workspaces/{name}/files/{path}"]).toBeUndefined();
    expect(doc.paths["/{path}"]).toBeUndefined();
    expect(doc.paths["/api/health"]?.get).toBeDefined();
    expect(doc.paths["/api/ws/mux"]?.get).toBeDefined();
    expect(doc.paths["/llm/{provider}/{path}"]?.post).toBeDefined();
  });
});

describe("the catalogue", () => {
  test("each route's path parameters are exactly the ones its path names, and operation ids are unique", () => {
    for (const route of ROUTE_CATALOGUE) {
      const named = [...openApiPath(route.path).matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? "").sort();
      const declared = Object.keys(route.params?.path?.shape ?? {}).sort();
      expect({ route: route.path, declared }).toEqual({ route: route.path, declared: named });
    }
    const ids = ROUTE_CATALOGUE.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("response schemas are strict", () => {
  test("GET /api/me validates as documented, and the same answer with one more field does not", async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema(doc, "doc");
    const validate = ajv.compile({
      $ref: "doc#/paths/~1api~1me/get/responses/200/content/application~1json/schema",
    });
    const res = await server.app.request(`${BASE}/api/me`, { headers: bearer(token) });
    const me = (await res.json()) as Record<string, unknown>;
    expect(validate(me)).toBe(true);
    expect(validate({ ...me, password_hash: "x" })).toBe(false);
    expect(validate({ ...me, role: "root" })).toBe(false);
  });

  test("the document is cached with its ETag, and If-None-Match gets 304", async () => {
    const first = await server.app.request(`${BASE}/api/openapi.json`);
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const again = await server.app.request(`${BASE}/api/openapi.json`, {
      headers: { "if-none-match": `W/${etag}` },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
  });
});
