/**
 * Revocation against the real server: a deactivated user's open WebSocket closes within a second;
 * one disabled from the CLI (straight in the DB) or whose API key is deleted closes on the next
 * ping round; sign-out ends every token of the user.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
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

test("an admin lists every user's running sessions and stops one; nobody else may", async () => {
  const token = await stack.addUser("wsfrank", PASSWORD);
  const ws = await api(stack.admin.token, "POST", "/api/workspaces", { name: "running" });
  const { path } = (await ws.json()) as { path: string };
  const adminMux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const frankMux = await MuxClient.connect(stack.wsUrl, token);
  const adminSession = newSessionId();
  const frankSession = newSessionId();
  for (const [mux, id] of [
    [adminMux, adminSession],
    [frankMux, frankSession],
  ] as const) {
    const created = await mux.command(id, "session.create", { config: { harness: "pi", cwd: path } });
    expect(created.success).toBe(true);
  }
  const list = async () =>
    (
      (await (await api(stack.admin.token, "GET", "/api/admin/sessions")).json()) as {
        sessions: { session_id: string; username?: string; workspace_path: string }[];
      }
    ).sessions;
  const running = await list();
  expect(running.find((s) => s.session_id === frankSession)).toMatchObject({
    username: "wsfrank",
    workspace_path: path,
  });
  expect(running.find((s) => s.session_id === adminSession)).toMatchObject({
    username: stack.admin.username,
  });
  expect((await api(token, "GET", "/api/admin/sessions")).status).toBe(403);
  expect((await api(token, "POST", `/api/admin/sessions/${adminSession}/stop`)).status).toBe(403);

  const from = frankMux.frames.length;
  expect((await api(stack.admin.token, "POST", `/api/admin/sessions/${frankSession}/stop`)).status).toBe(204);
  await frankMux.event(frankSession, "session.closed", from, 15_000);
  expect((await list()).map((s) => s.session_id)).not.toContain(frankSession);
  expect((await list()).map((s) => s.session_id)).toContain(adminSession);
  expect((await api(stack.admin.token, "POST", `/api/admin/sessions/${newSessionId()}/stop`)).status).toBe(
    404,
  );
  expect((await api(stack.admin.token, "POST", "/api/admin/sessions/not%20an%20id/stop")).status).toBe(400);
  const audit = (await (
    await api(stack.admin.token, "GET", "/api/admin/audit?action=admin.session_stop")
  ).json()) as {
    entries: { target: string; detail: { user: string } }[];
  };
  expect(audit.entries[0]).toMatchObject({ target: frankSession, detail: { user: "wsfrank" } });
  adminMux.close();
  frankMux.close();
}, 60_000);
