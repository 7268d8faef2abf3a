/**
 * The web terminal through the whole product: mux terminal channel -> serve -> runner -> a real
 * PTY running the user's shell inside the workspace's bubblewrap sandbox.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MuxClient } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let workspace: string;

function send(client: MuxClient, body: Record<string, unknown>): void {
  client.send(JSON.stringify({ channel: "terminal", ...body }));
}

/** Everything the terminal printed to this client so far. */
function screen(client: MuxClient, terminalId: string, from = 0): string {
  return client.frames
    .slice(from)
    .filter((f) => f.channel === "terminal" && f.type === "output" && f.terminal_id === terminalId)
    .map((f) => Buffer.from(String(f.data_base64), "base64").toString())
    .join("");
}

async function waitForOutput(
  client: MuxClient,
  terminalId: string,
  pattern: RegExp,
  from = 0,
): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const text = screen(client, terminalId, from);
    if (pattern.test(text)) return text;
    await Bun.sleep(25);
  }
  throw new Error(
    `terminal output never matched ${pattern}: ${JSON.stringify(screen(client, terminalId, from).slice(-500))}`,
  );
}

beforeAll(async () => {
  stack = await startStack({ noProvider: true, dataDirInHome: true });
  mkdirSync(join(stack.home, ".ssh"), { recursive: true });
  writeFileSync(join(stack.home, ".ssh", "id_rsa"), "PRIVATE KEY MATERIAL\n");
  stack.own(join(stack.home, ".ssh"));
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "term" }),
  });
  workspace = ((await res.json()) as { path: string }).path;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

test("a real shell in the sandbox: echo, resize, Ctrl-C, uid, hidden ~/.ssh, exit code", async () => {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const opened = await client.openTerminal(workspace);
  expect(opened.type).toBe("opened");
  const id = String(opened.terminal_id);

  send(client, { type: "input", terminal_id: id, data: "echo hello-$((6*7))\r" });
  await waitForOutput(client, id, /hello-42/);

  send(client, { type: "resize", terminal_id: id, cols: 132, rows: 40 });
  let from = client.frames.length;
  send(client, { type: "input", terminal_id: id, data: "stty size\r" });
  await waitForOutput(client, id, /40 132/, from);

  from = client.frames.length;
  send(client, { type: "input", terminal_id: id, data: "sleep 30; echo not-interrupted\r" });
  await Bun.sleep(300);
  send(client, { type: "input", terminal_id: id, data: "\x03" });
  send(client, { type: "input", terminal_id: id, data: "echo rc=$?\r" });
  const interrupted = await waitForOutput(client, id, /rc=130/, from);
  // The typed command line echoes the words; only the command's own output line would start with them.
  expect(interrupted).not.toMatch(/\nnot-interrupted/);

  from = client.frames.length;
  send(client, { type: "input", terminal_id: id, data: "echo uid=$(id -u) pwd=$(pwd)\r" });
  await waitForOutput(
    client,
    id,
    new RegExp(`uid=${stack.runAs?.uid ?? process.getuid?.()} pwd=${workspace}`),
    from,
  );

  from = client.frames.length;
  send(client, { type: "input", terminal_id: id, data: "cat ~/.ssh/id_rsa; echo ssh-rc=$?\r" });
  const ssh = await waitForOutput(client, id, /ssh-rc=\d+/, from);
  expect(ssh).not.toContain("PRIVATE KEY MATERIAL");
  expect(ssh).toMatch(/ssh-rc=1/);

  // Oqto's own state in the home (the runner's; serve's too without root) and serve's secrets stay hidden.
  from = client.frames.length;
  send(client, {
    type: "input",
    terminal_id: id,
    data: `ls ${stack.runnerDataDir} | wc -l; cat ${stack.dataDir}/jwt-secret; echo jwt-rc=$?\r`,
  });
  const secret = await waitForOutput(client, id, /jwt-rc=\d+/, from);
  expect(secret).toMatch(/[\r\n]0\r\n/);
  expect(secret).toMatch(/jwt-rc=1/);
  expect(readFileSync(join(stack.dataDir, "jwt-secret"), "utf8").length).toBeGreaterThan(20);

  send(client, { type: "input", terminal_id: id, data: "exit 7\r" });
  const exit = await client.waitFor(
    (f) => f.channel === "terminal" && f.type === "exit" && f.terminal_id === id,
  );
  expect(exit.exit_code).toBe(7);
  client.close();
});

test("a reload re-attaches the same terminal and replays its scrollback", async () => {
  const first = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const id = String((await first.openTerminal(workspace)).terminal_id);
  send(first, { type: "input", terminal_id: id, data: "echo before-reload-$((2+3))\r" });
  await waitForOutput(first, id, /before-reload-5/);
  first.close();
  await first.closed;

  const second = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const reopened = await second.openTerminal(workspace, { terminal_id: id });
  expect(reopened.type).toBe("opened");
  expect(reopened.terminal_id).toBe(id);
  await waitForOutput(second, id, /before-reload-5/);
  send(second, { type: "input", terminal_id: id, data: "echo after-reload\r" });
  await waitForOutput(second, id, /after-reload\r?\n/);
  send(second, { type: "close", terminal_id: id });
  await second.waitFor((f) => f.channel === "terminal" && f.type === "exit" && f.terminal_id === id);
  second.close();
});

test("bad terminal frames and other users' terminals get clear errors", async () => {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const outside = await client.openTerminal(workspace, { workspace_path: "/etc" });
  expect(outside).toMatchObject({ type: "error", code: "path_not_allowed" });
  const badSize = await client.openTerminal(workspace, { cols: 0 });
  expect(badSize).toMatchObject({ type: "error", code: "invalid_request" });
  const mine = String((await client.openTerminal(workspace)).terminal_id);

  const eve = await MuxClient.connect(stack.wsUrl, await stack.addUser("eve", "eve-password-1"));
  const from = eve.frames.length;
  send(eve, { id: "steal", type: "input", terminal_id: mine, data: "echo pwned > /tmp/pwned\r" });
  const refused = await eve.waitFor((f) => f.channel === "terminal" && f.id === "steal", 10_000, from);
  expect(refused).toMatchObject({ type: "error", code: "not_found" });
  const hijack = await eve.openTerminal(workspace, { terminal_id: mine });
  expect(hijack).toMatchObject({ type: "error", code: "not_found" });
  send(client, { type: "close", terminal_id: mine });
  eve.close();
  client.close();
});
