/**
 * Revocation against the real server: a deactivated user's open WebSocket closes within a second;
 * one disabled from the CLI (straight in the DB) or whose API key is deleted closes on the next
 * ping round; sign-out ends every token of the user.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MuxClient } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ noProvider: true });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const PASSWORD = "harbor-violet-engine-61";
const CLOSE_REVOKED = 4001;

function api(token: string, method: string, path: string, body?: unknown) {
  return fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function userId(token: string): Promise<string> {
  return ((await (await api(token, "GET", "/api/me")).json()) as { id: string }).id;
}

test("deactivation by an admin closes the user's WebSocket within a second", async () => {
  const token = await stack.addUser("wsbob", PASSWORD);
  const client = await MuxClient.connect(stack.wsUrl, token);
  const started = Date.now();
  const patched = await api(stack.admin.token, "PATCH", `/api/admin/users/${await userId(token)}`, {
    is_active: false,
  });
  expect(patched.status).toBe(200);
  const closed = await client.closed;
  expect(closed.code).toBe(CLOSE_REVOKED);
  expect(Date.now() - started).toBeLessThan(1000);
  expect((await api(token, "GET", "/api/me")).status).toBe(401);
  // Re-connecting with the old token is refused.
  await expect(MuxClient.connect(stack.wsUrl, token)).rejects.toThrow();
});

test("sign-out ends every token and socket; a CLI disable and a deleted key close theirs on the next ping round", async () => {
  const carol = await stack.addUser("wscarol", PASSWORD);
  const dave = await stack.addUser("wsdave", PASSWORD);
  const erin = await stack.addUser("wserin", PASSWORD);
  const key = (await (await api(erin, "POST", "/api/keys", { name: "script" })).json()) as {
    id: string;
    key: string;
  };
  const [carolSocket, daveSocket, keySocket] = await Promise.all([
    MuxClient.connect(stack.wsUrl, carol),
    MuxClient.connect(stack.wsUrl, dave),
    MuxClient.connect(stack.wsUrl, key.key),
  ]);

  const out = await fetch(`${stack.baseUrl}/api/auth/logout`, {
    method: "POST",
    headers: { authorization: `Bearer ${carol}` },
  });
  expect(out.status).toBe(204);
  expect((await carolSocket.closed).code).toBe(CLOSE_REVOKED);
  expect((await api(carol, "GET", "/api/me")).status).toBe(401);

  const disabled = await stack.cli(["user", "disable", "wsdave"]);
  expect(disabled.code).toBe(0);
  expect((await api(erin, "DELETE", `/api/keys/${key.id}`)).status).toBe(204);
  const started = Date.now();
  const [daveClosed, keyClosed] = await Promise.all([daveSocket.closed, keySocket.closed]);
  expect([daveClosed.code, keyClosed.code]).toEqual([CLOSE_REVOKED, CLOSE_REVOKED]);
  // One ping round (10 s) at most.
  expect(Date.now() - started).toBeLessThan(11_000);
  // erin's own session token is untouched by deleting her key.
  expect((await api(erin, "GET", "/api/me")).status).toBe(200);
}, 30_000);
