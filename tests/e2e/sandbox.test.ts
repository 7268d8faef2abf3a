/**
 * A workspace's sandbox through the product: shown and tightened over REST, enforced on the
 * web terminal (real bwrap), and never loosened.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let auth: Record<string, string>;
let workspace: string;
const sandboxUrl = () => `${stack.baseUrl}/api/workspaces/locked/sandbox`;
const put = (body: unknown, contentType = "application/json") =>
  fetch(sandboxUrl(), {
    method: "PUT",
    headers: { ...auth, "content-type": contentType },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  stack = await startStack({ dataDirInHome: true });
  auth = { authorization: `Bearer ${stack.admin.token}` };
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "locked" }),
  });
  workspace = ((await res.json()) as { path: string }).path;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** Runs one command in a fresh terminal of the workspace and returns what it printed. */
async function inTerminal(command: string): Promise<string> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const opened = await client.openTerminal(workspace, { cols: 120, rows: 30 });
  if (opened.type !== "opened") return `ERROR ${opened.code}: ${opened.error}`;
  const id = String(opened.terminal_id);
  client.send(
    JSON.stringify({
      channel: "terminal",
      type: "input",
      terminal_id: id,
      data: `${command}; echo END-$((1+1))\r`,
    }),
  );
  const deadline = Date.now() + 15_000;
  let text = "";
  while (Date.now() < deadline && !/END-2/.test(text)) {
    await Bun.sleep(50);
    text = client.frames
      .filter((f) => f.channel === "terminal" && f.type === "output")
      .map((f) => Buffer.from(String(f.data_base64), "base64").toString())
      .join("");
  }
  client.send(JSON.stringify({ channel: "terminal", type: "close", terminal_id: id }));
  client.close();
  return text;
}

test("the workspace shows its effective profile and may only tighten it", async () => {
  const shown = (await (await fetch(sandboxUrl(), { headers: auth })).json()) as {
    enabled: boolean;
    profile: string;
    profiles: string[];
  };
  expect(shown).toMatchObject({ enabled: true, profile: "development", profiles: ["development", "strict"] });
  const list = (await (await fetch(`${stack.baseUrl}/api/workspaces`, { headers: auth })).json()) as Array<{
    name: string;
    sandbox_profile: string;
  }>;
  expect(list.find((w) => w.name === "locked")?.sandbox_profile).toBe("development");

  const looser = await put({ profile: "minimal" });
  expect(looser.status).toBe(400);
  expect(((await looser.json()) as { error: string }).error).toContain("looser");
  expect((await put({ profile: "no-such-profile" })).status).toBe(400);
  expect((await put({ profile: "strict", extra: 1 })).status).toBe(400);
  expect((await put({ profile: "strict" }, "text/plain")).status).toBe(415);

  const tightened = await put({ profile: "strict" });
  expect(tightened.status).toBe(200);
  expect(((await tightened.json()) as { profile: string }).profile).toBe("strict");
  expect(readFileSync(join(workspace, ".oqto/sandbox.toml"), "utf8")).toContain('profile = "strict"');
});

test("the strict workspace's terminal has no network, a read-only home and cannot edit its sandbox file", async () => {
  const port = new URL(stack.baseUrl).port;
  const out = await inTerminal(
    [
      // $((2+2)) keeps each marker out of the echoed command line: only running it prints "-4".
      `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo NET-OPEN-$((2+2)) || echo NET-CLOSED-$((2+2))`,
      "(touch ~/home-write-test) 2>/dev/null && echo HOME-RW-$((2+2)) || echo HOME-RO-$((2+2))",
      "(echo 'profile = \"minimal\"' > .oqto/sandbox.toml) 2>/dev/null && echo OQTO-RW-$((2+2)) || echo OQTO-RO-$((2+2))",
      "touch inside-ok && echo WS-RW-$((2+2))",
    ].join("; "),
  );
  expect(out).toContain("NET-CLOSED-4");
  expect(out).toContain("HOME-RO-4");
  expect(out).toContain("OQTO-RO-4");
  expect(out).toContain("WS-RW-4");
  expect(out).not.toContain("NET-OPEN-4");
  expect(readFileSync(join(workspace, ".oqto/sandbox.toml"), "utf8")).toContain('profile = "strict"');
});

test("a workspace file that tries to loosen stops the terminal with a clear sandbox_error", async () => {
  writeFileSync(
    join(workspace, ".oqto/sandbox.toml"),
    '[profiles.mine]\nhome = "rw"\nisolate_pid = false\n\nprofile = "mine"\n',
  );
  const out = await inTerminal("echo should-not-run");
  expect(out).toStartWith("ERROR sandbox_error");
  const shown = await fetch(sandboxUrl(), { headers: auth });
  expect(shown.status).toBe(502);
  writeFileSync(join(workspace, ".oqto/sandbox.toml"), 'profile = "strict"\n');
});

test("pi runs inside the workspace's sandbox: its tools cannot read credentials or Oqto's secrets, write outside, or see host processes", async () => {
  mkdirSync(join(stack.home, ".ssh"), { recursive: true });
  writeFileSync(join(stack.home, ".ssh", "id_rsa"), "PRIVATE KEY MATERIAL\n");
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "agent" }),
  });
  const agentWorkspace = ((await res.json()) as { path: string }).path;
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  const created = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: agentWorkspace },
  });
  expect(created.success).toBe(true);
  const command = [
    "cat ~/.ssh/id_rsa; echo ssh=$?",
    `cat ${stack.dataDir}/jwt-secret; echo jwt=$?`,
    "touch /usr/pwned; echo usr=$?",
    "echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline)",
    "echo ok > inside.txt; echo ws=$?",
  ].join("; ");
  stack.fakeLlm.script([{ toolCalls: [{ name: "bash", arguments: { command } }] }, { text: "done" }]);
  const from = client.frames.length;
  await client.command(sessionId, "prompt", { message: "probe the sandbox" });
  const end = await client.waitFor((f) => f.session_id === sessionId && f.event === "tool.end", 60_000, from);
  const output = String(end.output);
  expect(output).toContain("ssh=1");
  expect(output).not.toContain("PRIVATE KEY MATERIAL");
  expect(output).toContain("jwt=1");
  expect(output).toContain("usr=1");
  expect(output).toMatch(/pid1=\S*bwrap/);
  expect(output).toContain("ws=0");
  expect(readFileSync(join(agentWorkspace, "inside.txt"), "utf8")).toBe("ok\n");
  await client.event(sessionId, "agent.idle", from, 60_000);

  client.close();
}, 120_000);

test("under strict the agent reaches its LLM only through the bridge: no other network, no provider key", async () => {
  mkdirSync(join(workspace, ".oqto"), { recursive: true });
  writeFileSync(join(workspace, ".oqto/sandbox.toml"), 'profile = "strict"\n');
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  const created = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: workspace },
  });
  expect(created.error ?? "").toBe("");
  expect(created.success).toBe(true);
  const llmPort = stack.fakeLlm.port;
  const command = [
    // The fake LLM listens on the host's 127.0.0.1: the sandbox's own loopback has nothing there.
    `(exec 3<>/dev/tcp/127.0.0.1/${llmPort}) 2>/dev/null && echo llm-direct=open || echo llm-direct=closed`,
    "(exec 3<>/dev/tcp/1.1.1.1/443) 2>&1 | head -1; echo outside=done",
    "grep -c oqto-llm-bridge ~/.pi/agent/models.json; echo key=$(grep -c fake-key ~/.pi/agent/models.json)",
  ].join("; ");
  stack.fakeLlm.script([
    { toolCalls: [{ name: "bash", arguments: { command } }] },
    { text: "strict turn done" },
  ]);
  const from = client.frames.length;
  await client.command(sessionId, "prompt", { message: "probe the network" });
  const end = await client.waitFor((f) => f.session_id === sessionId && f.event === "tool.end", 60_000, from);
  const output = String(end.output);
  expect(output).toContain("llm-direct=closed");
  expect(output).toContain("Network is unreachable");
  expect(output).toContain("key=0");
  // The second LLM call (after the tool result) also went through the bridge and finished the turn.
  await client.event(sessionId, "agent.idle", from, 60_000);
  const text = client.frames
    .filter((f) => f.session_id === sessionId && f.event === "stream.text_delta")
    .map((f) => String(f.delta))
    .join("");
  expect(text).toContain("strict turn done");
  client.close();
}, 120_000);
