/**
 * The OpenAPI document (issue 16, point 2) of a real `oqto serve`: it validates as OpenAPI 3.1,
 * it lists exactly the routes the server's router holds (the document is built from the router,
 * which marks a route nobody described), and real answers of a wide sample of routes, errors
 * included, match the schema the document gives for their status.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { ROUTE_CATALOGUE, UNDOCUMENTED } from "../../src/server/openapi/document.ts";
import { openApiPath } from "../../src/server/openapi/route-doc.ts";
import { SseClient } from "../helpers/sse-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

interface MediaDoc {
  schema?: unknown;
}
interface ResponseDoc {
  description: string;
  content?: Record<string, MediaDoc>;
}
interface OperationDoc {
  security?: unknown[];
  responses: Record<string, ResponseDoc>;
  requestBody?: { content: Record<string, MediaDoc> };
  [UNDOCUMENTED]?: boolean;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
}

const DOC_ID = "oqto-openapi";
let stack: Stack;
let admin: Record<string, string>;
let doc: Document;
let ajv: Ajv2020;
const compiled = new Map<string, ValidateFunction>();
/** Every `METHOD template status` a request below got, to report what the sample covered. */
const covered = new Set<string>();

const pointer = (parts: string[]) =>
  parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/** The validator of the schema at `parts` inside the document (its `$ref`s resolve in it). */
function schemaAt(parts: string[]): ValidateFunction {
  const ref = `${DOC_ID}#/${pointer(parts)}`;
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  return validate;
}

function operationOf(method: string, template: string): OperationDoc {
  const operation = doc.paths[template]?.[method];
  if (!operation) throw new Error(`the document has no ${method.toUpperCase()} ${template}`);
  return operation;
}

/** The documented media type a response's Content-Type falls under (`*\/*`, `type/*` included). */
function mediaKey(documented: string[], contentType: string): string | undefined {
  const actual = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return documented.find(
    (key) => key === actual || key === "*/*" || (key.endsWith("/*") && actual.startsWith(key.slice(0, -1))),
  );
}

/**
 * Sends a request and checks its answer against the document: the status is listed for the
 * operation, the Content-Type is one it lists, and a JSON body validates against its schema. A
 * JSON request body the server accepted must also validate against the documented request schema.
 */
async function call(
  method: string,
  template: string,
  path: string,
  init: { headers?: Record<string, string>; json?: unknown; body?: BodyInit } = {},
): Promise<{ status: number; body: unknown; response: Response }> {
  const headers = {
    ...(init.headers ?? admin),
    ...(init.json !== undefined && { "content-type": "application/json" }),
  };
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method: method.toUpperCase(),
    headers,
    ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    ...(init.body !== undefined && { body: init.body }),
  });
  const text = await response.text();
  const operation = operationOf(method, template);
  const answer = operation.responses[String(response.status)];
  if (!answer) {
    throw new Error(
      `${method.toUpperCase()} ${template} answered ${response.status}, which the document does not list: ${text.slice(0, 300)}`,
    );
  }
  covered.add(`${method.toUpperCase()} ${template} ${response.status}`);
  const contentType = response.headers.get("content-type");
  let body: unknown = text;
  if (!answer.content) {
    expect(text).toBe("");
  } else {
    const key = mediaKey(Object.keys(answer.content), contentType ?? "");
    if (!key)
      throw new Error(
        `${method} ${template} ${response.status}: Content-Type ${contentType} is not documented`,
      );
    if (key === "application/json") {
      body = JSON.parse(text);
      const validate = schemaAt([
        "paths",
        template,
        method,
        "responses",
        String(response.status),
        "content",
        key,
        "schema",
      ]);
      if (!validate(body)) {
        throw new Error(
          `${method.toUpperCase()} ${template} ${response.status} does not match its schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`,
        );
      }
    }
  }
  if (init.json !== undefined && response.ok) {
    const validate = schemaAt([
      "paths",
      template,
      method,
      "requestBody",
      "content",
      "application/json",
      "schema",
    ]);
    expect({ accepted: validate(init.json), errors: validate.errors ?? null }).toEqual({
      accepted: true,
      errors: null,
    });
  }
  return { status: response.status, body, response };
}

beforeAll(async () => {
  stack = await startStack();
  admin = { authorization: `Bearer ${stack.admin.token}` };
  const res = await fetch(`${stack.baseUrl}/api/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, DOC_ID);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 15_000);

describe("the document", () => {
  test("validates as OpenAPI 3.1, and every schema in it compiles as JSON Schema 2020-12", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    let schemas = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, answer] of Object.entries(operation.responses)) {
          for (const media of Object.keys(answer.content ?? {})) {
            schemaAt(["paths", template, method, "responses", status, "content", media, "schema"]);
            schemas++;
          }
        }
        for (const media of Object.keys(operation.requestBody?.content ?? {})) {
          schemaAt(["paths", template, method, "requestBody", "content", media, "schema"]);
          schemas++;
        }
      }
    }
    expect(schemas).toBeGreaterThan(200);
  }, 60_000);

  test("its operations are exactly the router's routes: none undescribed, none described but not served", () => {
    const operations = Object.entries(doc.paths).flatMap(([template, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${template}`,
        operation,
      })),
    );
    expect(operations.filter((o) => o.operation[UNDOCUMENTED]).map((o) => o.key)).toEqual([]);
    const described = ROUTE_CATALOGUE.map((d) => `${d.method.toUpperCase()} ${openApiPath(d.path)}`);
    expect(new Set(described).size).toBe(described.length);
    expect(operations.map((o) => o.key).sort()).toEqual([...described].sort());
  });

  test("every operation states its auth, and a signed-in one documents 401 as {error, code}", () => {
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect({ route: `${method} ${template}`, security: Array.isArray(operation.security) }).toEqual({
          route: `${method} ${template}`,
          security: true,
        });
        if ((operation.security ?? []).length > 0 && !template.startsWith("/llm/")) {
          expect(operation.responses["401"]?.content?.["application/json"]?.schema).toEqual({
            $ref: "#/components/schemas/RestError",
          });
        }
      }
    }
  });

  test("is sent with an ETag, and If-None-Match gets 304", async () => {
    const first = await call("get", "/api/openapi.json", "/api/openapi.json", { headers: {} });
    const etag = first.response.headers.get("etag");
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const again = await call("get", "/api/openapi.json", "/api/openapi.json", {
      headers: { "if-none-match": etag ?? "" },
    });
    expect(again.status).toBe(304);
  });
});

describe("real answers match the document", () => {
  test("public routes, sign-in and its refusals", async () => {
    expect((await call("get", "/api/health", "/api/health", { headers: {} })).status).toBe(200);
    expect((await call("get", "/api/auth/setup", "/api/auth/setup", { headers: {} })).status).toBe(200);
    const login = { username: stack.admin.username, password: stack.admin.password };
    expect(
      (await call("post", "/api/auth/login", "/api/auth/login", { headers: {}, json: login })).status,
    ).toBe(200);
    const wrong = await call("post", "/api/auth/login", "/api/auth/login", {
      headers: {},
      json: { ...login, password: "not-the-password" },
    });
    expect(wrong.status).toBe(401);
    // Bad input: a body the schema refuses, and one that is not JSON at all.
    const extra = await call("post", "/api/auth/login", "/api/auth/login", {
      headers: {},
      json: { ...login, admin: true },
    });
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({
      code: "BAD_REQUEST",
      details: { issues: [{ code: "unrecognized_keys" }] },
    });
    const notJson = await call("post", "/api/auth/login", "/api/auth/login", {
      headers: { "content-type": "text/plain" },
      body: "username=admin",
    });
    expect(notJson.status).toBe(415);
    expect((await call("get", "/api/metrics", "/api/metrics")).status).toBe(200);
    expect((await call("get", "/api/metrics", "/api/metrics", { headers: {} })).status).toBe(401);
    expect((await call("get", "/{path}", "/", { headers: {} })).status).toBe(200);
    expect((await call("get", "/{path}", "/no-such-chunk.js", { headers: {} })).status).toBe(404);
    // Served before the app: the mux WebSocket and the LLM gateway.
    expect((await call("get", "/api/ws/mux", "/api/ws/mux")).status).toBe(400);
    expect((await call("get", "/api/ws/mux", "/api/ws/mux", { headers: {} })).status).toBe(401);
    const relay = await call("post", "/llm/{provider}/{path}", "/llm/fake/chat/completions", {
      headers: {},
      json: { model: "fake-model", messages: [] },
    });
    expect(relay.status).toBe(401);
  }, 60_000);

  test("the caller's account, keys and usage", async () => {
    const me = await call("get", "/api/me", "/api/me");
    expect(me.body).toMatchObject({ username: stack.admin.username, role: "admin" });
    expect((await call("get", "/api/me", "/api/me", { headers: {} })).status).toBe(401);
    expect((await call("put", "/api/me", "/api/me", { json: { display_name: "The Admin" } })).status).toBe(
      200,
    );
    const made = await call("post", "/api/keys", "/api/keys", { json: { name: "openapi-test" } });
    expect(made.status).toBe(201);
    const keyId = (made.body as { id: string }).id;
    expect((await call("get", "/api/keys", "/api/keys")).status).toBe(200);
    expect((await call("delete", "/api/keys/{id}", `/api/keys/${keyId}`)).status).toBe(204);
    expect((await call("delete", "/api/keys/{id}", `/api/keys/${keyId}`)).status).toBe(404);
    expect((await call("get", "/api/usage", "/api/usage?group=model")).status).toBe(200);
    expect((await call("get", "/api/usage", "/api/usage?group=nonsense")).status).toBe(400);
    expect((await call("get", "/api/usage/limits", "/api/usage/limits")).status).toBe(200);
  });

  test("workspaces and file bytes", async () => {
    expect(
      (await call("post", "/api/workspaces", "/api/workspaces", { json: { name: "main" } })).status,
    ).toBe(201);
    expect(
      (await call("post", "/api/workspaces", "/api/workspaces", { json: { name: "main" } })).status,
    ).toBe(409);
    expect((await call("get", "/api/workspaces", "/api/workspaces")).status).toBe(200);
    const sandbox = "/api/workspaces/{name}/sandbox";
    expect((await call("get", sandbox, "/api/workspaces/main/sandbox")).status).toBe(200);
    const file = "/api/workspaces/{name}/files/{path}";
    const put = await call("put", file, "/api/workspaces/main/files/notes/a.txt?create_parents=1", {
      headers: { ...admin, "content-type": "text/plain" },
      body: "0123456789",
    });
    expect(put.status).toBe(201);
    expect((await call("get", file, "/api/workspaces/main/files/notes/a.txt")).body).toBe("0123456789");
    const part = await call("get", file, "/api/workspaces/main/files/notes/a.txt", {
      headers: { ...admin, range: "bytes=2-4" },
    });
    expect([part.status, part.body]).toEqual([206, "234"]);
    const past = await call("get", file, "/api/workspaces/main/files/notes/a.txt", {
      headers: { ...admin, range: "bytes=50-" },
    });
    expect(past.status).toBe(416);
    expect((await call("get", file, "/api/workspaces/main/files/notes?zip=1")).status).toBe(200);
    expect((await call("get", file, "/api/workspaces/main/files/missing.txt")).status).toBe(404);
  }, 60_000);

  test("sessions: create, prompt, follow, read, abort, and their refusals", async () => {
    const created = await call("post", "/api/sessions", "/api/sessions", { json: { workspace: "main" } });
    expect(created.status).toBe(201);
    const id = (created.body as { session_id: string }).session_id;
    const stream = await SseClient.open(`${stack.baseUrl}/api/sessions/${id}/events`, admin);
    const events = operationOf("get", "/api/sessions/{id}/events").responses["200"]?.content ?? {};
    expect(mediaKey(Object.keys(events), stream.response.headers.get("content-type") ?? "")).toBe(
      "text/event-stream",
    );
    await stack.fakeLlm.script([{ text: ["open", "api"] }]);
    const prompt = "/api/sessions/{id}/prompt";
    expect(
      (await call("post", prompt, `/api/sessions/${id}/prompt`, { json: { message: "hello" } })).status,
    ).toBe(202);
    await stream.event("agent.idle", 60_000);
    stream.close();
    const unknownMode = await call("post", prompt, `/api/sessions/${id}/prompt`, {
      json: { message: "x", mode: "shout" },
    });
    expect(unknownMode.body).toMatchObject({ code: "BAD_REQUEST" });
    expect((await call("get", "/api/sessions", "/api/sessions?limit=5")).status).toBe(200);
    expect((await call("get", "/api/sessions", "/api/sessions?limit=0")).status).toBe(400);
    expect((await call("get", "/api/sessions/{id}", `/api/sessions/${id}`)).status).toBe(200);
    expect((await call("get", "/api/sessions/{id}", "/api/sessions/oqto-nobody")).status).toBe(404);
    expect((await call("get", "/api/sessions/{id}/messages", `/api/sessions/${id}/messages`)).status).toBe(
      200,
    );
    expect((await call("get", "/api/sessions/search", "/api/sessions/search?q=hello")).status).toBe(200);
    expect(
      (await call("patch", "/api/sessions/{id}", `/api/sessions/${id}`, { json: { title: "named" } })).status,
    ).toBe(200);
    expect((await call("post", "/api/sessions/{id}/abort", `/api/sessions/${id}/abort`)).status).toBe(202);
    expect(
      (await call("get", "/api/sessions/{id}/events", `/api/sessions/${id}/events?after=x`)).status,
    ).toBe(400);
    expect((await call("delete", "/api/sessions/{id}", `/api/sessions/${id}`)).status).toBe(204);
  }, 60_000);

  test("the admin namespace, and a user who is not an admin", async () => {
    const user = await call("post", "/api/admin/users", "/api/admin/users", {
      json: { username: "openapi-user", password: "a-long-unguessable-passphrase-42" },
    });
    expect(user.status).toBe(201);
    for (const path of [
      "/api/admin/users",
      "/api/admin/providers",
      "/api/admin/audit",
      "/api/admin/invite-codes",
      "/api/admin/limits",
      "/api/admin/sessions",
      "/api/admin/admission",
      "/api/admin/usage",
    ]) {
      expect({ path, status: (await call("get", path, path)).status }).toEqual({ path, status: 200 });
    }
    expect(
      (await call("post", "/api/admin/invite-codes", "/api/admin/invite-codes", { json: { count: 2 } }))
        .status,
    ).toBe(201);
    const limits = "/api/admin/limits/{scope}/{subject}";
    expect((await call("put", limits, "/api/admin/limits/role/user", { json: { rpm: 100 } })).status).toBe(
      200,
    );
    expect((await call("put", limits, "/api/admin/limits/team/user", { json: { rpm: 100 } })).status).toBe(
      400,
    );
    expect((await call("delete", limits, "/api/admin/limits/role/user")).status).toBe(204);
    const locks = "/api/admin/login-locks/{username}";
    expect((await call("delete", locks, "/api/admin/login-locks/openapi-user")).status).toBe(200);
    expect((await call("get", "/api/admin/eavs/status", "/api/admin/eavs/status")).status).toBe(409);
    const token = await stack.addUser("openapi-plain", "another-long-passphrase-43");
    const plain = { authorization: `Bearer ${token}` };
    expect((await call("get", "/api/admin/users", "/api/admin/users", { headers: plain })).status).toBe(403);
    expect((await call("get", "/api/metrics", "/api/metrics", { headers: plain })).status).toBe(403);
  }, 60_000);

  test("the sample covered a good part of the document", () => {
    const operations = new Set([...covered].map((entry) => entry.split(" ").slice(0, 2).join(" ")));
    expect(operations.size).toBeGreaterThanOrEqual(40);
  });
});
