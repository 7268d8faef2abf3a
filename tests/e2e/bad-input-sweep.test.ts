/**
 * Bad input on every route of `oqto serve` (issue 11, point 3). Each route of the table below is
 * fired as the admin, as an ordinary user and unauthenticated, with malformed percent-encoding in
 * its path parameters and query, oversized and wrong-typed input, broken JSON, wrong content
 * types and bad headers; a few requests that no HTTP client would send go over a raw socket. No
 * answer may be a 5xx or be missing, every 4xx under /api is `{error, code}` JSON, malformed
 * percent-encoding in a file path is exactly a 400, and serve is healthy afterwards. The table must
 * name every route the server's source registers. What the sweep found but this change could not
 * fix (Bun's own parser answers) is listed as known gaps (GAP_*): tolerated, and named in the summary.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { MuxClient } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

type Who = "admin" | "user" | "anon";
type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

interface Route {
  method: Method;
  /** `:param` segments, and `*` for the rest of the path (a file path). */
  path: string;
  /** Who may call it: public, any signed-in user, admins. */
  auth: "public" | "user" | "admin";
  /** A valid value for each parameter, percent-encoded. */
  params?: Record<string, string>;
  /** A valid query: the keys the route reads. */
  query?: Record<string, string>;
  /** The route reads a JSON body; this one is valid. */
  json?: Record<string, unknown>;
  /** The route reads raw bytes (an upload); these are valid. */
  raw?: string;
  /** The route reads `Range`. */
  range?: true;
  /** Statuses the valid request may get from a caller it admits. */
  expect: number[];
  /** Limited per client IP (login, setup): each request comes from its own loopback address. */
  perIp?: true;
  /** Not under /api: only "no 5xx" applies. */
  ui?: true;
  /** Revokes the caller's tokens (logout): fired after every other route, the sweep signs in again after it. */
  revokes?: true;
}

interface Probe {
  route: Route;
  who: Who;
  kase: string;
  method: Method;
  path: string;
  headers: Record<string, string>;
  /** A string or bytes; an array is written piece by piece (chunked, no Content-Length). */
  body?: string | Uint8Array | Uint8Array[];
  /** The one status this bad input must get. */
  mustBe?: number;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** Set when no HTTP answer came: the error or the timeout. */
  problem?: string;
}

const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 15_000;
const SESSION_ID = "sweep-0000-0000-0000-000000000000";

/** Malformed percent-encoding (`%00` too: no path holds a NUL), and odd but well-formed path segments. */
const MALFORMED_SEGMENTS = ["%", "%zz", "%ff%fe", "%c0%af", "%E0%A4%A", "a%", "%%41", "%u0041", "%00"];
const ODD_SEGMENTS = ["%2e%2e", "%2F", "%25", "%0a%0d", "%20", "a".repeat(10_000), "%41".repeat(3000)];
const BAD_QUERIES = [
  "%",
  "%zz=%ff%fe",
  "=",
  "&&&=&",
  "a=%00",
  "a=%c0%af",
  `${"q".repeat(10_000)}=1`,
  `x=${"%41".repeat(5000)}`,
  "__proto__=1&constructor=2",
];
const BAD_QUERY_VALUES = [
  "%",
  "%zz",
  "%ff%fe",
  "%00",
  "%c0%af",
  "",
  "abc",
  "-1",
  "1.5",
  "1e400",
  "NaN",
  "Infinity",
  "99999999999999999999",
  "0x10",
  "%5B%5D",
  "a".repeat(10_000),
];
const BAD_JSON_VALUES: [string, unknown][] = [
  ["null", null],
  ["number", 1],
  ["negative", -1],
  ["huge number", 1e308],
  ["boolean", true],
  ["array", []],
  ["array of strings", ["x"]],
  ["object", {}],
  ["nested object", { nested: { deep: "x" } }],
  ["empty string", ""],
  ["100k string", "x".repeat(100_000)],
  ["NUL", "\u0000"],
  ["lone surrogate", "\ud800"],
  ["percent junk", "%zz%ff"],
];
const INVALID_JSON: [string, string | Uint8Array][] = [
  ["empty", ""],
  ["open brace", "{"],
  ["cut off", '{"a":'],
  ["nul", "nul"],
  ["single quotes", "{'a':1}"],
  ["trailing comma", "[1,]"],
  ["BOM", "\ufeff{}"],
  ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ["deep arrays", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
  ["deep objects", `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`],
];
const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "application/jsonp",
  "APPLICATION/JSON",
  ";",
  "application/json, text/plain",
  `application/json; x=${"a".repeat(8000)}`,
];
const RANGES = [
  "bytes=99999999999999999999-",
  "bytes=-99999999999999999999",
  "bytes=-0",
  "bytes=5-1",
  "bytes=abc",
  "bytes=0-1,2-3",
  "bytes=1e3-",
  "items=0-1",
  "bytes=",
  "bytes=%zz",
];
const AUTHORIZATIONS = [
  "Bearer",
  "Bearer ",
  "Basic YWRtaW46eA==",
  "Bearer a.b.c",
  "Bearer %zz",
  `Bearer ${"a".repeat(10_000)}`,
  "Bearer a b",
  "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
];
const COOKIES = ["auth_token=%zz", 'auth_token="', `auth_token=${"a".repeat(10_000)}`, ";;;=;", "auth_token"];
const BAD_HOSTS = [
  "%zz",
  "[::1",
  "a b",
  "",
  "x".repeat(5000),
  "127.0.0.1:99999",
  "user@evil.example",
  "x:1:2",
];
const LOGIN_BODY = JSON.stringify({ username: "sweep-nobody", password: "not-the-password" });
const USER = { username: "sweepuser", password: "another-correct-horse-9" };
const USER_LOGIN_BODY = JSON.stringify(USER);
const ORIGINS = ["null", "%zz", "http://[::1", "evil.example", "", "http://evil.example"];

let stack: Stack;
let port = 0;
let tokens: Record<Who, string | undefined>;
let routes: Route[];

beforeAll(async () => {
  stack = await startStack();
  port = Number(new URL(stack.baseUrl).port);
  const userToken = await stack.addUser(USER.username, USER.password);
  tokens = { admin: stack.admin.token, user: userToken, anon: undefined };
  const admin = { authorization: `Bearer ${stack.admin.token}` };
  const made = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify({ name: "main" }),
  });
  expect(made.status).toBe(201);
  const put = await fetch(`${stack.baseUrl}/api/workspaces/main/files/docs/hello.txt?create_parents=1`, {
    method: "PUT",
    headers: admin,
    body: "hello, sweep\n",
  });
  expect(put.status).toBe(201);
  const sandbox = await fetch(`${stack.baseUrl}/api/workspaces/main/sandbox`, { headers: admin });
  const { profile } = (await sandbox.json()) as { profile: string };
  const provider = {
    name: "fake",
    api: "openai-completions",
    base_url: stack.fakeLlm.url,
    api_key: "fake-key",
    models: ["fake-model", "fake-model-2"],
  };
  const file = { name: "main", "*": "docs/hello.txt" };
  routes = [
    { method: "GET", path: "/api/health", auth: "public", expect: [200] },
    { method: "GET", path: "/api/openapi.json", auth: "public", expect: [200] },
    { method: "GET", path: "/api/metrics", auth: "admin", expect: [200] },
    { method: "GET", path: "/api/auth/setup", auth: "public", expect: [200] },
    {
      method: "POST",
      path: "/api/auth/setup",
      auth: "public",
      perIp: true,
      json: { setup_token: "x".repeat(43), username: "sweeper", password: "a-long-enough-passphrase-42" },
      expect: [409],
    },
    {
      method: "POST",
      path: "/api/auth/login",
      auth: "public",
      perIp: true,
      json: { username: "sweep-nobody", password: "not-the-password" },
      expect: [401],
    },
    {
      method: "POST",
      path: "/api/auth/register",
      auth: "public",
      perIp: true,
      json: { username: "sweepnew", password: "harbor-violet-engine-61", invite_code: "ABCDE-FGHJK" },
      // Single-user mode: registration is refused, and says why.
      expect: [403],
    },
    { method: "POST", path: "/api/auth/logout", auth: "public", revokes: true, expect: [204] },
    { method: "GET", path: "/api/me", auth: "user", expect: [200] },
    { method: "PUT", path: "/api/me", auth: "user", json: { display_name: "Sweep" }, expect: [200] },
    {
      method: "POST",
      path: "/api/me/password",
      auth: "user",
      // Never the right current password: the sweep must not change its callers' passwords.
      json: { current_password: "not-the-password", new_password: "a-long-enough-passphrase-42" },
      expect: [403],
    },
    { method: "GET", path: "/api/keys", auth: "user", expect: [200] },
    {
      method: "POST",
      path: "/api/keys",
      auth: "user",
      json: { name: "sweep", expires_in_s: 3600 },
      expect: [201, 409],
    },
    {
      method: "DELETE",
      path: "/api/keys/:id",
      auth: "user",
      params: { id: "sweep-no-such-key" },
      expect: [404],
    },
    { method: "GET", path: "/api/admin/users", auth: "admin", expect: [200] },
    {
      method: "POST",
      path: "/api/admin/users",
      auth: "admin",
      json: {
        username: "sweep-made",
        password: "a-long-enough-passphrase-42",
        role: "user",
        display_name: "Made",
      },
      expect: [201, 409],
    },
    // Never a real user id: the sweep must not deactivate, reset or delete its callers.
    {
      method: "PATCH",
      path: "/api/admin/users/:id",
      auth: "admin",
      params: { id: "sweep-no-such-user" },
      json: { is_active: false, role: "user" },
      expect: [404],
    },
    {
      method: "POST",
      path: "/api/admin/users/:id/password",
      auth: "admin",
      params: { id: "sweep-no-such-user" },
      json: { password: "a-long-enough-passphrase-42" },
      expect: [404],
    },
    {
      method: "DELETE",
      path: "/api/admin/users/:id",
      auth: "admin",
      params: { id: "sweep-no-such-user" },
      expect: [404],
    },
    { method: "GET", path: "/api/admin/sessions", auth: "admin", expect: [200] },
    {
      method: "POST",
      path: "/api/admin/sessions/:id/stop",
      auth: "admin",
      params: { id: SESSION_ID },
      expect: [404],
    },
    { method: "GET", path: "/api/admin/invite-codes", auth: "admin", expect: [200] },
    {
      method: "POST",
      path: "/api/admin/invite-codes",
      auth: "admin",
      json: { max_uses: 1, expires_in_s: 3600, note: "sweep", count: 1 },
      expect: [201],
    },
    {
      method: "DELETE",
      path: "/api/admin/invite-codes/:id",
      auth: "admin",
      params: { id: "sweep-no-such-code" },
      expect: [404],
    },
    {
      method: "GET",
      path: "/api/admin/audit",
      auth: "admin",
      query: { before: "999999999", limit: "10", action: "auth.login" },
      expect: [200],
    },
    { method: "GET", path: "/api/workspaces", auth: "user", expect: [200] },
    {
      method: "POST",
      path: "/api/workspaces",
      auth: "user",
      json: { name: "sweep-made", display_name: "Sweep" },
      expect: [201, 409],
    },
    {
      method: "GET",
      path: "/api/workspaces/:name/sandbox",
      auth: "user",
      params: { name: "main" },
      expect: [200],
    },
    {
      method: "PUT",
      path: "/api/workspaces/:name/sandbox",
      auth: "user",
      params: { name: "main" },
      json: { profile },
      expect: [200],
    },
    { method: "GET", path: "/api/admin/providers", auth: "admin", expect: [200] },
    {
      method: "POST",
      path: "/api/admin/providers",
      auth: "admin",
      json: { ...provider, name: "sweep-made" },
      expect: [201, 409],
    },
    {
      method: "PUT",
      path: "/api/admin/providers/:name",
      auth: "admin",
      params: { name: "fake" },
      json: provider,
      expect: [200],
    },
    {
      method: "DELETE",
      path: "/api/admin/providers/:name",
      auth: "admin",
      params: { name: "sweep-gone" },
      expect: [404],
    },
    { method: "POST", path: "/api/admin/providers/sync", auth: "admin", expect: [200] },
    // The sweep's serve has no [eavs]: the eavs views say so.
    { method: "GET", path: "/api/admin/eavs/status", auth: "admin", expect: [409] },
    { method: "GET", path: "/api/admin/eavs/quotas", auth: "admin", expect: [409] },
    {
      method: "POST",
      path: "/api/admin/providers/probe",
      auth: "admin",
      // Port 9 (discard) is closed here: the probe says "unreachable" without leaving the machine.
      json: { api: "openai-completions", base_url: "http://127.0.0.1:9/v1", api_key: "sweep-key" },
      expect: [200],
    },
    {
      method: "GET",
      path: "/api/usage",
      auth: "user",
      query: { group: "model", from: "2026-01-01" },
      expect: [200],
    },
    { method: "GET", path: "/api/usage/limits", auth: "user", expect: [200] },
    { method: "GET", path: "/api/admin/usage", auth: "admin", query: { group: "user" }, expect: [200] },
    { method: "GET", path: "/api/admin/limits", auth: "admin", expect: [200] },
    { method: "GET", path: "/api/admin/admission", auth: "admin", expect: [200] },
    {
      method: "PUT",
      path: "/api/admin/limits/:scope/:subject",
      auth: "admin",
      params: { scope: "role", subject: "user" },
      json: { rpm: 1000 },
      expect: [200],
    },
    {
      method: "DELETE",
      path: "/api/admin/limits/:scope/:subject",
      auth: "admin",
      params: { scope: "role", subject: "admin" },
      expect: [404],
    },
    {
      method: "DELETE",
      path: "/api/admin/login-locks/:username",
      auth: "admin",
      params: { username: "sweep-nobody" },
      expect: [200],
    },
    {
      method: "GET",
      path: "/api/sessions",
      auth: "user",
      query: { workspace: "main", limit: "10", offset: "0" },
      expect: [200],
    },
    {
      method: "GET",
      path: "/api/sessions/search",
      auth: "user",
      query: { q: "hello", workspace: "main", mode: "auto", limit: "10", offset: "0" },
      expect: [200],
    },
    { method: "GET", path: "/api/sessions/:id", auth: "user", params: { id: SESSION_ID }, expect: [404] },
    {
      method: "PATCH",
      path: "/api/sessions/:id",
      auth: "user",
      params: { id: SESSION_ID },
      json: { title: "renamed" },
      expect: [404],
    },
    { method: "DELETE", path: "/api/sessions/:id", auth: "user", params: { id: SESSION_ID }, expect: [404] },
    {
      method: "GET",
      path: "/api/sessions/:id/messages",
      auth: "user",
      params: { id: SESSION_ID },
      query: { limit: "5" },
      expect: [404],
    },
    // A workspace that does not exist: the whole create path runs, but no pi starts for each probe.
    {
      method: "POST",
      path: "/api/sessions",
      auth: "user",
      json: { workspace: "sweep-missing", model: "fake/fake-model", thinking: "low" },
      expect: [404],
    },
    {
      method: "POST",
      path: "/api/sessions/:id/prompt",
      auth: "user",
      params: { id: SESSION_ID },
      json: { message: "hi", mode: "steer", client_id: "sweep-1" },
      expect: [404],
    },
    {
      method: "GET",
      path: "/api/sessions/:id/commands",
      auth: "user",
      params: { id: SESSION_ID },
      expect: [404],
    },
    {
      method: "POST",
      path: "/api/sessions/:id/abort",
      auth: "user",
      params: { id: SESSION_ID },
      expect: [404],
    },
    {
      method: "POST",
      path: "/api/sessions/:id/input",
      auth: "user",
      params: { id: SESSION_ID },
      json: { request_id: "sweep-request", value: "x", confirmed: true, cancelled: false },
      expect: [404],
    },
    {
      method: "GET",
      path: "/api/sessions/:id/events",
      auth: "user",
      params: { id: SESSION_ID },
      query: { after: "0" },
      expect: [404],
    },
    {
      method: "GET",
      path: "/api/workspaces/:name/files/*",
      auth: "user",
      params: file,
      query: { download: "1", inline: "1", zip: "0" },
      range: true,
      expect: [200],
    },
    {
      method: "PUT",
      path: "/api/workspaces/:name/files/*",
      auth: "user",
      params: { name: "main", "*": "sweep/upload.txt" },
      query: { create_parents: "1", overwrite: "1" },
      raw: "uploaded by the sweep\n",
      expect: [200, 201],
    },
    // Not an upgrade: 400 (401 before it without credentials); upgrades go over the raw socket below.
    { method: "GET", path: "/api/ws/mux", auth: "user", query: { token: "x" }, expect: [400] },
    { method: "GET", path: "/api/no-such/:x", auth: "user", params: { x: "thing" }, expect: [404] },
    { method: "GET", path: "/:page", auth: "public", params: { page: "setup" }, expect: [200], ui: true },
  ];
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

function fill(route: Route, params: Record<string, string> = {}, query?: string): string {
  const values = { ...route.params, ...params };
  const path = route.path
    .split("/")
    .map((part) => (part === "*" ? values["*"] : part.startsWith(":") ? values[part.slice(1)] : part))
    .join("/");
  const validQuery = new URLSearchParams(route.query).toString();
  const search = query ?? validQuery;
  return search === "" ? path : `${path}?${search}`;
}

function label(value: string): string {
  return value.length > 24 ? `${value.slice(0, 12)}…(${value.length} chars)` : value;
}

function withoutKey(object: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
}

/** Every probe of one route for one caller. */
function probesFor(route: Route, who: Who, methodsOfPath: Set<string>): Probe[] {
  const probes: Probe[] = [];
  const token = tokens[who];
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const validBody = route.json ? JSON.stringify(route.json) : route.raw;
  const validHeaders = route.json ? { ...auth, "content-type": "application/json" } : auth;
  const add = (kase: string, over: Partial<Probe> = {}) => {
    probes.push({
      route,
      who,
      kase,
      method: route.method,
      path: fill(route),
      headers: validHeaders,
      ...(validBody !== undefined && { body: validBody }),
      ...over,
    });
  };

  add("valid");
  for (const param of Object.keys(route.params ?? {})) {
    // In a file route (workspace name or file path) malformed percent-encoding is exactly a 400.
    const filesRoute = route.path.endsWith("/files/*") && who !== "anon";
    for (const bad of MALFORMED_SEGMENTS) {
      add(`path ${param}=${label(bad)}`, {
        path: fill(route, { [param]: bad }),
        ...(filesRoute && { mustBe: 400 }),
      });
    }
    for (const bad of ODD_SEGMENTS)
      add(`path ${param}=${label(bad)}`, { path: fill(route, { [param]: bad }) });
    if (param === "*") {
      const doubled = (route.params?.["*"] ?? "").replace("/", "//");
      for (const bad of ["docs/%zz/x", "%2e%2e/%2e%2e/etc/passwd", doubled, `${"d/".repeat(3000)}x`]) {
        add(`path ${param}=${label(bad)}`, { path: fill(route, { [param]: bad }) });
      }
    }
  }
  const validQuery = new URLSearchParams(route.query).toString();
  for (const bad of BAD_QUERIES) {
    add(`query ${label(bad)}`, { path: fill(route, {}, validQuery ? `${validQuery}&${bad}` : bad) });
  }
  for (const key of Object.keys(route.query ?? {})) {
    const others = new URLSearchParams(route.query);
    others.delete(key);
    const rest = others.toString();
    for (const bad of [...BAD_QUERY_VALUES, "repeated"]) {
      const pair = bad === "repeated" ? `${key}=1&${key}=2` : `${key}=${bad}`;
      add(`query ${key}=${label(bad)}`, { path: fill(route, {}, rest ? `${rest}&${pair}` : pair) });
    }
  }

  add("header 8 KB", { headers: { ...validHeaders, "x-sweep": "a".repeat(8 * 1024) } });
  add("header 64 KB", { headers: { ...validHeaders, "x-sweep": "a".repeat(64 * 1024) } });
  add("accept junk", { headers: { ...validHeaders, accept: "%zz;q=zz, */*;q=-1" } });
  add("100 headers", {
    headers: {
      ...validHeaders,
      ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, "v"])),
    },
  });
  if (route.range) {
    for (const range of RANGES) add(`range ${range}`, { headers: { ...validHeaders, range } });
  }
  if (who === "anon") {
    const contentType: Record<string, string> = route.json ? { "content-type": "application/json" } : {};
    for (const authorization of AUTHORIZATIONS) {
      add(`authorization ${label(authorization)}`, { headers: { ...contentType, authorization } });
    }
    for (const cookie of COOKIES) add(`cookie ${label(cookie)}`, { headers: { ...contentType, cookie } });
  }
  if (who === "admin") {
    const contentType: Record<string, string> = route.json ? { "content-type": "application/json" } : {};
    const cookie = `auth_token=${token}`;
    add("cookie without Origin", { headers: { ...contentType, cookie } });
    for (const origin of ORIGINS) {
      add(`cookie, Origin ${origin}`, { headers: { ...contentType, cookie, origin } });
    }
  }

  if (route.json) {
    const valid = route.json;
    const json = (kase: string, body: string | Uint8Array | Uint8Array[], headers = validHeaders) =>
      add(kase, { body, headers });
    for (const [kase, value] of [
      ["array", []],
      ["array of the valid body", [valid]],
      ["number", 1],
      ["null", null],
      ["string", "x"],
      ["true", true],
      ["empty object", {}],
      ["extra key", { ...valid, extra: 1 }],
      ["nested extra key", { ...valid, extra: { a: { b: [1, { c: null }] } } }],
    ] as const) {
      json(`body ${kase}`, JSON.stringify(value));
    }
    json("body __proto__ key", `{"__proto__":{"role":"admin"},${JSON.stringify(valid).slice(1)}`);
    for (const key of Object.keys(valid)) {
      json(`body without ${key}`, JSON.stringify(withoutKey(valid, key)));
      for (const [kase, value] of BAD_JSON_VALUES) {
        json(`body ${key}: ${kase}`, JSON.stringify({ ...valid, [key]: value }));
      }
    }
    for (const [kase, text] of INVALID_JSON) json(`invalid JSON: ${kase}`, text);
    const firstKey = Object.keys(valid)[0] ?? "x";
    const big = JSON.stringify({ ...valid, [firstKey]: "x".repeat(2 * 1024 * 1024) });
    json("body 2 MB", big);
    const bigBytes = new TextEncoder().encode(big);
    json(
      "body 2 MB, chunked",
      Array.from({ length: Math.ceil(bigBytes.length / 65536) }, (_, i) =>
        bigBytes.subarray(i * 65536, (i + 1) * 65536),
      ),
    );
    json("no Content-Type", JSON.stringify(valid), auth);
    for (const type of CONTENT_TYPES) {
      json(`Content-Type ${label(type)}`, JSON.stringify(valid), { ...auth, "content-type": type });
    }
  }
  if (route.raw !== undefined) {
    add("upload empty", { body: "" });
    add("upload invalid UTF-8", { body: new Uint8Array([0xff, 0xfe, 0x00, 0xc0, 0xaf]) });
    add("upload 2 MB, chunked", {
      body: Array.from({ length: 32 }, () => new Uint8Array(65536).fill(0x61)),
    });
    for (const type of ["application/json", "multipart/form-data; boundary=x", ";"]) {
      add(`upload Content-Type ${type}`, { headers: { ...validHeaders, "content-type": type } });
    }
  }
  const others: Method[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
  for (const method of others) {
    if (methodsOfPath.has(method) || (method === "HEAD" && methodsOfPath.has("GET"))) continue;
    add(`method ${method}`, { method, body: method === "GET" || method === "HEAD" ? undefined : "{}" });
  }
  return probes;
}

let perIpCounter = 0;
/** A fresh loopback address (127.1.0.0/16) for the per-IP rate-limited routes. */
function nextLoopback(): string {
  perIpCounter += 1;
  return `127.1.${(perIpCounter >> 8) & 255}.${perIpCounter & 255}`;
}

function send(probe: Probe): Promise<Answer> {
  return new Promise((resolve) => {
    const finish = (answer: Answer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: probe.method,
        path: probe.path,
        headers: probe.headers,
        ...(probe.route.perIp && { localAddress: nextLoopback() }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers["content-type"] ?? "");
        res.on("data", (chunk: Buffer) => {
          if (size < 65_536) chunks.push(chunk);
          size += chunk.length;
        });
        res.on("end", () => finish({ status, contentType, body: Buffer.concat(chunks).toString() }));
        res.on("error", (error) => finish({ status, contentType, body: `(body cut: ${error.message})` }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: 0, contentType: "", body: "", problem: `no answer in ${REQUEST_TIMEOUT_MS} ms` });
    }, REQUEST_TIMEOUT_MS);
    req.on("error", (error) => finish({ status: 0, contentType: "", body: "", problem: error.message }));
    // Bun's node:http client sends a DELETE's or OPTIONS's body without a length unless told.
    if (probe.body !== undefined && !Array.isArray(probe.body)) {
      req.setHeader("content-length", Buffer.byteLength(probe.body));
    }
    const pieces = Array.isArray(probe.body) ? probe.body : probe.body === undefined ? [] : [probe.body];
    for (const piece of pieces) req.write(piece);
    req.end();
  });
}

function isErrorJson(answer: Answer): boolean {
  if (!answer.contentType.toLowerCase().startsWith("application/json")) return false;
  try {
    const body = JSON.parse(answer.body) as { error?: unknown; code?: unknown };
    return typeof body.error === "string" && typeof body.code === "string";
  } catch {
    return false;
  }
}

/** Why an answer fails the sweep, or null. */
function problemOf(probe: Probe, answer: Answer): string | null {
  if (answer.problem) return `no answer: ${answer.problem}`;
  if (answer.status >= 500) return `a ${answer.status}`;
  if (probe.kase === "valid") {
    const { auth } = probe.route;
    const admitted = auth === "public" || probe.who === "admin" || (probe.who === "user" && auth === "user");
    const wanted = admitted ? probe.route.expect : probe.who === "anon" ? [401] : [403];
    if (!wanted.includes(answer.status)) return `the valid request got ${answer.status}, not ${wanted}`;
  }
  // Bun's HTTP parser refuses headers over its limit with an empty 431 before any app code runs.
  const parserRefusal = answer.status === 431 && probe.kase === "header 64 KB";
  if (probe.mustBe !== undefined && answer.status !== probe.mustBe) {
    return `got ${answer.status}, not ${probe.mustBe}`;
  }
  if (
    !probe.route.ui &&
    answer.status >= 400 &&
    probe.method !== "HEAD" &&
    !parserRefusal &&
    !isErrorJson(answer)
  ) {
    return `a ${answer.status} that is not {error, code} JSON (${answer.contentType || "no type"})`;
  }
  return null;
}

async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

interface RawCase {
  kase: string;
  bytes: string | Uint8Array;
  /** A well-formed request the app answers: its 4xx must be `{error, code}` JSON. */
  app?: true;
  /** Half-close the connection after sending (a client that went away mid-body). */
  halfClose?: true;
  /** Connect from a fresh loopback address (the per-IP limited routes). */
  perIp?: true;
  /** Malformed HTTP that Bun's parser handles before Oqto: it may refuse it with its own 4xx or close. */
  parser?: true;
  /** A known gap (see GAP_*): tolerated, and named in the summary. */
  gap?: Gap;
  /** The one status this request should get (a gap tolerates another). */
  mustBe?: number;
}

/** Whether `data` holds a whole HTTP answer: its head and, by length or chunked end, its body. */
function isComplete(data: Buffer): boolean {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return false;
  const head = data.subarray(0, headEnd).toString("latin1");
  if (/^HTTP\/1\.[01] (101|204|304)/.test(head)) return true;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined) return data.length - headEnd - 4 >= Number(length);
  return /\r\ntransfer-encoding: *chunked/i.test(head) && data.subarray(-5).toString() === "0\r\n\r\n";
}

/** Sends bytes on a fresh connection and reads one answer (or until the server closes, or the timeout). */
function sendRaw(raw: RawCase): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", ...(raw.perIp && { localAddress: nextLoopback() }) });
    let data = Buffer.alloc(0);
    const finish = (problem?: string) => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString("latin1");
      const headEnd = text.indexOf("\r\n\r\n");
      const head = headEnd < 0 ? text : text.slice(0, headEnd);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? "";
      const body = headEnd < 0 ? "" : text.slice(headEnd + 4);
      resolve({
        status,
        contentType,
        body,
        ...(status === 0 && { problem: problem ?? `closed without an answer (${data.length} bytes)` }),
      });
    };
    const timer = setTimeout(() => finish(`no answer in ${REQUEST_TIMEOUT_MS} ms`), REQUEST_TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (isComplete(data)) finish();
    });
    socket.on("error", (error) => finish(error.message));
    socket.on("close", () => finish());
    // A half-close right after the request makes Bun drop an answer still being computed.
    socket.on("connect", () => (raw.halfClose ? socket.end(raw.bytes) : socket.write(raw.bytes)));
  });
}

/**
 * Found by this sweep and not fixable in the files it may change (PROTOCOL.md §4.1 wants a JSON 4xx):
 * tolerated, but counted and named in the summary, so that they stay in sight.
 */
interface Gap {
  why: string;
  /** The gap is a 5xx (else a 5xx still fails the sweep, and only a wrong 4xx or 2xx is tolerated). */
  fiveXx?: true;
}
const GAP_PARSER_505: Gap = { why: "Bun's HTTP parser answers 505, before any Oqto code runs", fiveXx: true };
/** Hosts for which Bun builds a relative req.url ("/api/me"): Hono then routes by the wrong path. */
const RELATIVE_URL_HOSTS = new Set(["", "a b", "user@evil.example"]);

function rawCases(): RawCase[] {
  const host = `127.0.0.1:${port}`;
  const admin = `Authorization: Bearer ${tokens.admin}\r\n`;
  const end = `Host: ${host}\r\n${admin}Connection: close\r\n\r\n`;
  const get = (target: string, headers = "", version = "HTTP/1.1") =>
    `GET ${target} ${version}\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`;
  const upgrade = (target: string, headers: string, hostValue = host) =>
    `GET ${target} HTTP/1.1\r\nHost: ${hostValue}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`;
  const wsKey = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  const post = (headers: string, body: string) =>
    `POST /api/workspaces HTTP/1.1\r\nHost: ${host}\r\n${admin}Content-Type: application/json\r\n${headers}Connection: close\r\n\r\n${body}`;
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(
      parts.map((part) => Buffer.from(part as string, typeof part === "string" ? "latin1" : undefined)),
    );
  const parser = (kase: string, request: string | Uint8Array, gap?: Gap): RawCase => ({
    kase,
    bytes: request,
    parser: true,
    ...(gap !== undefined && { gap }),
  });
  const hostCases = (value: string): RawCase[] => {
    const at = (target: string, headers = "", body = "") =>
      `${target} HTTP/1.1\r\nHost: ${value}\r\n${headers}Connection: close\r\n\r\n${body}`;
    const json = (body: string) => `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
    const invalid = !URL.canParse(`http://${value}/`) || RELATIVE_URL_HOSTS.has(value);
    const relative = invalid ? { mustBe: 400 } : {};
    const name = `Host ${label(value)}`;
    return [
      { kase: `${name}: GET /api/me`, bytes: at("GET /api/me", admin), app: true, ...relative },
      { kase: `${name}: POST /api/auth/logout`, bytes: at("POST /api/auth/logout"), app: true, ...relative },
      {
        kase: `${name}: POST /api/auth/login, wrong password`,
        bytes: at("POST /api/auth/login", json(LOGIN_BODY), LOGIN_BODY),
        app: true,
        perIp: true,
        ...relative,
      },
      {
        kase: `${name}: POST /api/auth/login, right password`,
        bytes: at("POST /api/auth/login", json(USER_LOGIN_BODY), USER_LOGIN_BODY),
        app: true,
        perIp: true,
        ...relative,
      },
      {
        kase: `${name}: upgrade with ?token=`,
        bytes: upgrade(`/api/ws/mux?token=${tokens.admin}`, wsKey, value),
        app: true,
        ...(invalid && { mustBe: 400 }),
      },
    ];
  };
  return [
    // Bytes and request lines no HTTP client sends: Bun's parser refuses them, or hands them on repaired.
    parser(
      "raw bytes in a file path",
      bytes("GET /api/workspaces/main/files/", [0xff, 0xfe], ` HTTP/1.1\r\n${end}`),
    ),
    parser(
      "raw bytes in a query",
      bytes("GET /api/sessions?workspace=", [0xc0, 0xaf], ` HTTP/1.1\r\n${end}`),
    ),
    parser(
      "NUL in a file path",
      bytes("GET /api/workspaces/main/files/a", [0], `b HTTP/1.1\r\n${end}`),
      GAP_PARSER_505,
    ),
    parser("space in a file path", get("/api/workspaces/main/files/a b", admin), GAP_PARSER_505),
    parser("HTTP/2.0 request line", get("/api/health", "", "HTTP/2.0"), GAP_PARSER_505),
    parser("HTTP/0.9 request line", "GET /api/health\r\n\r\n", GAP_PARSER_505),
    parser("no leading slash", get("api/health")),
    parser("asterisk target", get("*")),
    parser("unknown method", `FOO /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    parser("HTTP/1.1 without Host", `GET /api/me HTTP/1.1\r\n${admin}Connection: close\r\n\r\n`),
    {
      kase: "HTTP/1.0 without Host",
      bytes: "GET /api/health HTTP/1.0\r\n\r\n",
      app: true,
      mustBe: 400,
    },
    parser("header without colon", get("/api/me", `${admin}no colon here\r\n`)),
    parser("header 64 KB", get("/api/me", `${admin}X-Sweep: ${"a".repeat(65536)}\r\n`)),
    parser("Content-Length abc", post("Content-Length: abc\r\n", "{}")),
    parser("Content-Length -1", post("Content-Length: -1\r\n", "{}")),
    parser("Content-Length 2^64", post("Content-Length: 18446744073709551617\r\n", "{}")),
    parser("two Content-Lengths", post("Content-Length: 2\r\nContent-Length: 5\r\n", "{}")),
    { ...parser("truncated body", post("Content-Length: 100\r\n", '{"name":')), halfClose: true },
    {
      ...parser(
        "truncated upload",
        `PUT /api/workspaces/main/files/sweep/cut.txt HTTP/1.1\r\n${end.replace("Connection: close\r\n", "")}`.replace(
          "\r\n\r\n",
          "\r\nContent-Length: 100000\r\n\r\nonly a few bytes",
        ),
      ),
      halfClose: true,
    },
    parser("bad chunk size", post("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n")),
    parser(
      "chunked and Content-Length",
      post("Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", "2\r\n{}\r\n0\r\n\r\n"),
    ),
    parser(
      "upload over the body limit",
      `PUT /api/workspaces/main/files/big.bin HTTP/1.1\r\nHost: ${host}\r\n${admin}Content-Length: 999999999999\r\nConnection: close\r\n\r\nabc`,
    ),
    parser(
      "upgrade, version 7",
      upgrade(
        "/api/ws/mux",
        `${admin}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n`,
      ),
    ),
    // Well-formed requests the app answers.
    { kase: "absolute-form target", bytes: get("http://evil.example/api/me", admin), app: true },
    { kase: "dot segments", bytes: get("/api/workspaces/main/files/../../../etc/passwd", admin), app: true },
    ...BAD_HOSTS.flatMap(hostCases),
    // The mux WebSocket: refused upgrades are 401 (credentials) or 400 (not a valid upgrade), as JSON.
    ...[
      "?token=",
      "?token=garbage",
      "?token=%zz",
      "?token=%ff%fe",
      `?token=${"a".repeat(10_000)}`,
      "?token=a.b.c&token=x",
      "?%=%",
    ].map(
      (query): RawCase => ({
        kase: `upgrade ${label(query)}`,
        bytes: upgrade(`/api/ws/mux${query}`, wsKey),
        app: true,
      }),
    ),
    ...AUTHORIZATIONS.map(
      (authorization): RawCase => ({
        kase: `upgrade, Authorization ${label(authorization)}`,
        bytes: upgrade("/api/ws/mux", `${wsKey}Authorization: ${authorization}\r\n`),
        app: true,
      }),
    ),
    ...COOKIES.map(
      (cookie): RawCase => ({
        kase: `upgrade, Cookie ${label(cookie)}`,
        bytes: upgrade("/api/ws/mux", `${wsKey}Cookie: ${cookie}\r\nOrigin: http://${host}\r\n`),
        app: true,
      }),
    ),
    {
      kase: "upgrade, cookie and a foreign Origin",
      bytes: upgrade(
        "/api/ws/mux",
        `${wsKey}Cookie: auth_token=${tokens.admin}\r\nOrigin: http://evil.example\r\n`,
      ),
      app: true,
    },
    {
      kase: "upgrade without Sec-WebSocket-Key",
      bytes: upgrade("/api/ws/mux", `${admin}Sec-WebSocket-Version: 13\r\n`),
      app: true,
    },
    {
      kase: "upgrade to h2c",
      bytes: `GET /api/ws/mux HTTP/1.1\r\nHost: ${host}\r\n${admin}Upgrade: h2c\r\nConnection: Upgrade, close\r\n\r\n`,
      app: true,
    },
  ];
}

/** Why a raw answer fails the sweep, or null; a known gap is tolerated unless `strict`. */
function rawProblemOf(raw: RawCase, answer: Answer, strict = false): string | null {
  if (answer.problem && !(raw.parser && answer.problem.startsWith("closed without an answer"))) {
    return `no answer: ${answer.problem}`;
  }
  const tolerated = raw.gap !== undefined && !strict;
  if (answer.status >= 500) return tolerated && raw.gap?.fiveXx ? null : `a ${answer.status}`;
  if (tolerated) return null;
  if (raw.mustBe !== undefined && answer.status !== raw.mustBe)
    return `got ${answer.status}, not ${raw.mustBe}`;
  if (raw.app && answer.contentType.startsWith("text/html")) return "the UI page answered an /api request";
  if (raw.app && answer.status >= 400 && !isErrorJson(answer)) {
    return `a ${answer.status} that is not {error, code} JSON (${answer.contentType || "no type"})`;
  }
  return null;
}

const REPO = resolve(import.meta.dir, "../..");

/** `METHOD /api/…` of every route the server's source registers (Hono's `app.get("/api/…")` and kin). */
function registeredRoutes(): string[] {
  const found = new Set<string>();
  for (const file of new Bun.Glob("src/server/**/*.ts").scanSync({ cwd: REPO })) {
    for (const match of readFileSync(join(REPO, file), "utf8").matchAll(
      /\.(get|post|put|patch|delete)\(\s*"(\/api[^"]*)"/g,
    )) {
      found.add(`${match[1]?.toUpperCase()} ${match[2]}`);
    }
  }
  return [...found].sort();
}

test("the sweep's route table names every route the server registers", () => {
  const table = new Set(routes.map((route) => `${route.method} ${route.path}`));
  const missing = registeredRoutes().filter((route) => !table.has(route));
  expect(missing).toEqual([]);
});

test("a route-by-route bad-input sweep: no 5xx, every /api 4xx is {error, code}, and serve stays healthy", async () => {
  const started = performance.now();
  const methodsOf = new Map<string, Set<string>>();
  for (const route of routes) {
    methodsOf.set(route.path, (methodsOf.get(route.path) ?? new Set()).add(route.method));
  }
  const all = routes.flatMap((route) =>
    (["admin", "user", "anon"] as const).flatMap((who) =>
      probesFor(route, who, methodsOf.get(route.path) ?? new Set()),
    ),
  );
  // Logout revokes every token of its caller: its probes go last, after the raw requests (which
  // use the tokens too), and the sweep signs in again afterwards.
  const revoking = all.filter((probe) => probe.route.revokes);
  const probes = [...all.filter((probe) => !probe.route.revokes), ...revoking];
  const answers = await pool(probes.slice(0, probes.length - revoking.length), CONCURRENCY, send);
  const raws = rawCases();
  const rawAnswers = await pool(raws, CONCURRENCY, sendRaw);
  answers.push(...(await pool(revoking, CONCURRENCY, send)));

  const statuses = new Map<string, number>();
  const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
  const failures: string[] = [];
  probes.forEach((probe, i) => {
    const answer = answers[i] as Answer;
    count(answer.problem ? "none" : String(answer.status));
    const problem = problemOf(probe, answer);
    if (problem) {
      failures.push(
        `${probe.who} ${probe.method} ${probe.route.path} [${probe.kase}] ${label(probe.path)}: ${problem}: ${answer.body.slice(0, 160)}`,
      );
    }
  });
  let rawClosed = 0;
  const gaps = new Map<string, string[]>();
  raws.forEach((raw, i) => {
    const answer = rawAnswers[i] as Answer;
    count(answer.problem ? "raw closed" : `raw ${answer.status}`);
    if (answer.problem?.startsWith("closed without an answer")) rawClosed += 1;
    const problem = rawProblemOf(raw, answer);
    if (problem) failures.push(`raw [${raw.kase}]: ${problem}: ${answer.body.slice(0, 160)}`);
    else if (raw.gap !== undefined) {
      // A gap that no longer shows is named too: its entry can go.
      const shown = rawProblemOf(raw, answer, true)
        ? String(answer.status || "closed")
        : "no longer reproduces";
      gaps.set(raw.gap.why, [...(gaps.get(raw.gap.why) ?? []), shown]);
    }
  });

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const histogram = [...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}:${n}`);
  console.log(
    `bad-input sweep: ${routes.length} routes × 3 callers, ${probes.length} requests ` +
      `(${Math.round(probes.length / routes.length)} per route) + ${raws.length} raw (${rawClosed} closed by Bun's parser) ` +
      `in ${seconds} s; statuses ${histogram.join(" ")}; ${failures.length} failures`,
  );
  for (const [gap, answers] of gaps) {
    console.log(
      `known gap, tolerated: ${answers.length} raw requests (answers ${[...new Set(answers)]}): ${gap}`,
    );
  }
  expect(failures).toEqual([]);

  // serve is still up and still works.
  const health = await fetch(`${stack.baseUrl}/api/health`);
  expect(health.status).toBe(200);
  const login = await fetch(`${stack.baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: stack.admin.username, password: stack.admin.password }),
  });
  expect(login.status).toBe(200);
  const { token } = (await login.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  expect((await fetch(`${stack.baseUrl}/api/me`, { headers: auth })).status).toBe(200);
  const listed = await fetch(`${stack.baseUrl}/api/workspaces`, { headers: auth });
  expect(listed.status).toBe(200);
  expect(JSON.stringify(await listed.json())).toContain('"main"');
  const file = await fetch(`${stack.baseUrl}/api/workspaces/main/files/docs/hello.txt`, { headers: auth });
  expect(await file.text()).toBe("hello, sweep\n");
  const mux = await MuxClient.connect(stack.wsUrl, token);
  mux.close();
  expect(stack.serve.exitCode).toBeNull();
  expect(stack.logs()).not.toContain("unhandled error in request");
}, 60_000);
