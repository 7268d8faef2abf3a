/**
 * A workspace's sandbox through the product: shown and tightened over REST, enforced on the
 * web terminal (real bwrap), and never loosened.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
  workspace = await createWorkspace("locked");
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** Creates a workspace over REST and returns its path. */
async function createWorkspace(name: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { path: string }).path;
}

/** Runs one command in a fresh terminal of the workspace (or a folder in it) and returns what it printed. */
async function inTerminal(command: string, dir = workspace): Promise<string> {
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const opened = await client.openTerminal(dir, { cols: 120, rows: 30 });
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
  // Kept by the runner in its own state, outside every workspace, where no agent reaches.
  expect(JSON.parse(readFileSync(profilesFile(), "utf8")).workspaces).toEqual({ [workspace]: "strict" });
  expect(existsSync(join(workspace, ".oqto/sandbox.toml"))).toBe(false);
});

const profilesFile = () => join(stack.runnerDataDir, "runner", "workspace-profiles.json");

test("the strict workspace's terminal has no network, a read-only home and cannot edit Oqto's metadata", async () => {
  const port = new URL(stack.baseUrl).port;
  const out = await inTerminal(
    [
      // $((2+2)) keeps each marker out of the echoed command line: only running it prints "-4".
      `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo NET-OPEN-$((2+2)) || echo NET-CLOSED-$((2+2))`,
      "(touch ~/home-write-test) 2>/dev/null && echo HOME-RW-$((2+2)) || echo HOME-RO-$((2+2))",
      "(echo '{}' > .oqto/workspace.json) 2>/dev/null && echo OQTO-RW-$((2+2)) || echo OQTO-RO-$((2+2))",
      "touch inside-ok && echo WS-RW-$((2+2))",
    ].join("; "),
  );
  expect(out).toContain("NET-CLOSED-4");
  expect(out).toContain("HOME-RO-4");
  expect(out).toContain("WS-RW-4");
  expect(out).not.toContain("NET-OPEN-4");
  // Without a `.oqto` on the host the sandbox gets a private tmpfs there: nothing reaches the host.
  expect(existsSync(join(workspace, ".oqto/workspace.json"))).toBe(false);
});

test("a sandbox file inside the workspace is not read: the workspace keeps the profile its owner chose", async () => {
  mkdirSync(join(workspace, ".oqto"), { recursive: true });
  writeFileSync(join(workspace, ".oqto/sandbox.toml"), 'enabled = false\nprofile = "minimal"\n');
  stack.own(join(workspace, ".oqto"));
  const shown = (await (await fetch(sandboxUrl(), { headers: auth })).json()) as { profile: string };
  expect(shown.profile).toBe("strict");
  const out = await inTerminal("grep NoNewPrivs /proc/self/status");
  expect(out).toMatch(/NoNewPrivs:\s+1/);
});

test("a terminal and an agent in a subfolder run under their workspace's profile, not the global one", async () => {
  const sub = join(workspace, "deep", "sub");
  mkdirSync(sub, { recursive: true });
  stack.own(join(workspace, "deep"));
  const port = new URL(stack.baseUrl).port;
  const probe = `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo NET-OPEN-$((2+2)) || echo NET-CLOSED-$((2+2)); echo "IN-$((2+2)) $PWD"`;
  const out = await inTerminal(probe, sub);
  expect(out).toContain("NET-CLOSED-4");
  expect(out).toContain(`IN-4 ${sub}`);

  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  const created = await client.command(sessionId, "session.create", { config: { harness: "pi", cwd: sub } });
  expect(created.success).toBe(true);
  stack.fakeLlm.script([
    { toolCalls: [{ name: "bash", arguments: { command: probe } }] },
    { text: "sub done" },
  ]);
  const from = client.frames.length;
  await client.command(sessionId, "prompt", { message: "probe from a subfolder" });
  const end = await client.waitFor((f) => f.session_id === sessionId && f.event === "tool.end", 60_000, from);
  expect(String(end.output)).toContain("NET-CLOSED-4");
  expect(String(end.output)).toContain(`IN-4 ${sub}`);
  await client.event(sessionId, "agent.idle", from, 60_000);
  await client.command(sessionId, "session.close");
  client.close();
}, 120_000);

test("a damaged profile store fails every start closed with a clear sandbox_error", async () => {
  const saved = readFileSync(profilesFile(), "utf8");
  writeFileSync(profilesFile(), "{ not json");
  try {
    expect(await inTerminal("echo should-not-run")).toStartWith("ERROR sandbox_error");
    expect((await fetch(sandboxUrl(), { headers: auth })).status).toBe(502);
  } finally {
    writeFileSync(profilesFile(), saved);
  }
});

test("pi runs inside the workspace's sandbox: its tools cannot read credentials or Oqto's secrets, write outside, or see host processes", async () => {
  mkdirSync(join(stack.home, ".ssh"), { recursive: true });
  writeFileSync(join(stack.home, ".ssh", "id_rsa"), "PRIVATE KEY MATERIAL\n");
  stack.own(join(stack.home, ".ssh"));
  const agentWorkspace = await createWorkspace("agent");
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const sessionId = newSessionId();
  const created = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: agentWorkspace },
  });
  expect(created.success).toBe(true);
  const command = [
    "cat ~/.ssh/id_rsa; echo ssh=$?",
    `cat ${stack.dataDir}/jwt-secret; echo jwt=$?`,
    `cat ${stack.runnerDataDir}/sandbox.toml; echo policy=$?`,
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
  expect(output).toContain("policy=1");
  expect(output).toContain("usr=1");
  expect(output).toMatch(/pid1=\S*bwrap/);
  expect(output).toContain("ws=0");
  expect(readFileSync(join(agentWorkspace, "inside.txt"), "utf8")).toBe("ok\n");
  await client.event(sessionId, "agent.idle", from, 60_000);

  client.close();
}, 120_000);

test("under strict the agent reaches its LLM only through the bridge: no other network, no provider key", async () => {
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
    'echo models=$(grep -c 127.0.0.1 "$PI_CODING_AGENT_DIR/models.json") key=$(grep -c fake-key "$PI_CODING_AGENT_DIR/models.json")',
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
  expect(output).toMatch(/models=[1-9]/);
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

test("an agent sees only its own session's pi files, not another session's of the same workspace", async () => {
  const shared = await createWorkspace("shared");
  const client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const turn = async (sessionId: string, message: string) => {
    const from = client.frames.length;
    await client.command(sessionId, "prompt", { message });
    await client.event(sessionId, "agent.idle", from, 60_000);
    return from;
  };
  const first = newSessionId();
  const created = await client.command(first, "session.create", { config: { harness: "pi", cwd: shared } });
  const firstPiId = String((created.data as { pi_session_id: string }).pi_session_id);
  stack.fakeLlm.script([{ text: "noted" }]);
  await turn(first, "the first session's private words");
  // On the host, pi's file of the first session exists (the probe below could find it).
  const sessionsRoot = join(stack.home, "..", "pi-sessions");
  const firstFile = [...new Bun.Glob(`**/*_${firstPiId}.jsonl`).scanSync({ cwd: sessionsRoot })];
  expect(firstFile.length).toBe(1);

  const second = newSessionId();
  expect(
    (await client.command(second, "session.create", { config: { harness: "pi", cwd: shared } })).success,
  ).toBe(true);
  const command = `echo own=$PI_CODING_AGENT_SESSION_DIR; find / -name '*.jsonl' -not -path '/proc/*' 2>/dev/null | sed 's/^/found=/'`;
  stack.fakeLlm.script([{ toolCalls: [{ name: "bash", arguments: { command } }] }, { text: "looked" }]);
  const from = await turn(second, "look for other transcripts");
  const end = client.frames.slice(from).find((f) => f.session_id === second && f.event === "tool.end");
  const output = String(end?.output);
  const own = /own=(\S+)/.exec(output)?.[1] ?? "(none)";
  expect(own).toContain(second);
  const found = [...output.matchAll(/^found=(.+)$/gm)].map((m) => m[1] as string);
  expect(found.filter((path) => !path.startsWith(`${own}/`))).toEqual([]);
  expect(output).not.toContain(firstPiId);
  client.close();
}, 120_000);
