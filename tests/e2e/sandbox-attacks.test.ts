/**
 * The sandbox attack table (issue 5) through the whole product: the fake LLM makes pi call its
 * real `read`, `write` and `bash` tools against credentials, files outside the workspace, the
 * sandbox files, other processes, the network and another Linux user's home, under each built-in
 * profile. Every outcome is checked against SANDBOX.md §2.1 (and on the host), and the observed
 * table must be the one published in docs/SECURITY.md (OQTO_UPDATE_SECURITY_DOC=1 rewrites it).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Message } from "../../src/protocol/message.ts";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import {
  ATTACKS,
  type AttackContext,
  LLM_ROW,
  PROFILES,
  type ProfileName,
  shellCommand,
} from "./sandbox-attacks/attacks.ts";
import {
  createOtherUser,
  hostConnectOutcome,
  LOGIN_FILE_TEXT,
  type LoopbackListener,
  listenAsRunnerOf,
  listenOnLoopback,
  type OtherUser,
  type PlantedSecrets,
  plantLoginFiles,
  plantSecrets,
  runTag,
  type SocketListener,
} from "./sandbox-attacks/fixtures.ts";
import {
  readDocSection,
  renderAttackTable,
  type TableRow,
  writeDocSection,
} from "./sandbox-attacks/table.ts";

const SECURITY_DOC = join(import.meta.dir, "../../docs/SECURITY.md");
const OUTSIDE_ADDRESS = "1.1.1.1:443";
const WORKSPACE_NOTE = "notes the agent may read";

let stack: Stack;
let client: MuxClient;
let secrets: PlantedSecrets;
let otherUser: OtherUser;
let otherRunner: SocketListener;
/** One listener per workspace: what an agent may connect to, proving the socket probe itself works. */
const probeSockets: Array<{ stop: (closeActive?: boolean) => void }> = [];
let loopback: LoopbackListener;
let hostOutsideOutcome: string;
const tag = runTag();
const workspaces = {} as Record<ProfileName, string>;
/** Observed cells per profile, row id → cell; filled by the per-profile tests. */
const observed = new Map<ProfileName, Record<string, string>>();

beforeAll(async () => {
  stack = await startStack({ dataDirInHome: true, globalSandboxProfile: "minimal" });
  // Before any sandbox starts: deny_read only hides paths that exist at start.
  secrets = plantSecrets(stack.home);
  plantLoginFiles(stack.home);
  stack.own(stack.home);
  otherUser = createOtherUser();
  otherRunner = listenAsRunnerOf(otherUser);
  expect(statSync(otherRunner.path).isSocket()).toBe(true);
  loopback = listenOnLoopback();
  hostOutsideOutcome = await hostConnectOutcome(OUTSIDE_ADDRESS);
  const headers = { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" };
  for (const profile of PROFILES) {
    const created = await fetch(`${stack.baseUrl}/api/workspaces`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: `atk-${profile}` }),
    });
    expect(created.status).toBe(201);
    workspaces[profile] = ((await created.json()) as { path: string }).path;
    writeFileSync(join(workspaces[profile], "notes.txt"), `${WORKSPACE_NOTE}\n`);
    stack.own(join(workspaces[profile], "notes.txt"));
    probeSockets.push(
      Bun.listen({ unix: join(workspaces[profile], "probe.sock"), socket: { data: () => {} } }),
    );
    stack.own(join(workspaces[profile], "probe.sock"));
    // The minimal workspace keeps the global profile and has no workspace file at all.
    if (profile === "minimal") continue;
    const put = await fetch(`${stack.baseUrl}/api/workspaces/atk-${profile}/sandbox`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ profile }),
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { profile: string }).profile).toBe(profile);
  }
  // Both sockets the agents will try exist on the host: a "hidden" result is the sandbox's doing.
  expect(statSync(join(stack.runnerDataDir, "run", "runner.sock")).isSocket()).toBe(true);
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
  loopback?.stop();
  otherRunner?.stop();
  for (const socket of probeSockets) socket.stop(true);
  otherUser?.remove();
  // Only present if a sandbox let a write through to the host's system dirs.
  for (const profile of PROFILES) {
    for (const dir of ["/etc", "/usr/local"]) rmSync(join(dir, `${tag}-${profile}`), { force: true });
  }
});

function contextFor(profile: ProfileName): AttackContext {
  return {
    profile,
    home: stack.home,
    workspace: workspaces[profile],
    secrets: { ...secrets, otherUser: otherUser.marker },
    workspaceNote: WORKSPACE_NOTE,
    otherUserHome: otherUser.home,
    runnerSocket: join(stack.runnerDataDir, "run", "runner.sock"),
    runnerDataDir: stack.runnerDataDir,
    workspaceRoot: stack.workspaceRoot,
    otherWorkspace: workspaces[PROFILES[(PROFILES.indexOf(profile) + 1) % PROFILES.length] as ProfileName],
    servePid: stack.serve.pid,
    providerKey: "fake-key",
    echoes: () => stack.fakeLlm.echoes(),
    otherRunner: { path: otherRunner.path, connections: otherRunner.connections },
    runTag: tag,
    testPid: process.pid,
    loopback: { port: loopback.port, received: loopback.received },
    outsideAddress: OUTSIDE_ADDRESS,
    hostOutsideOutcome,
  };
}

/** The text of every assistant message that ended among `frames` (messages validated by the protocol schema). */
function assistantTexts(frames: Frame[]): string {
  return frames
    .filter((f) => f.event === "stream.message_end")
    .map((f) => Message.parse(f.message))
    .filter((m) => m.role === "assistant")
    .flatMap((m) => m.parts.map((p) => (p.type === "text" ? p.text : "")))
    .join("\n");
}

/**
 * One pi session in the profile's workspace: a single assistant turn makes every attack as a
 * tool call, the next turn ends with a final text. Returns row id → observed cell, where a cell
 * that differs from the expectation carries the tool output to explain itself.
 */
async function runAttacks(profile: ProfileName): Promise<Record<string, string>> {
  const ctx = contextFor(profile);
  const sessionId = newSessionId();
  const created = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: ctx.workspace },
  });
  if (!created.success)
    throw new Error(`session.create under ${profile}: ${created.error_code}: ${created.error}`);
  const prompt = `attack the sandbox under ${profile}`;
  const finalText = `attacks under ${profile} are done`;
  const requestsBefore = stack.fakeLlm.requests().length;
  stack.fakeLlm.script([
    {
      match: prompt,
      toolCalls: ATTACKS.map((attack) => ({ id: `atk_${profile}_${attack.id}`, ...attack.call(ctx) })),
    },
    { text: finalText },
  ]);
  const from = client.frames.length;
  const prompted = await client.command(sessionId, "prompt", { message: prompt });
  expect(prompted.success).toBe(true);
  await client.event(sessionId, "agent.idle", from, 60_000);
  const frames = client.frames.slice(from).filter((f) => f.session_id === sessionId);

  const cells: Record<string, string> = {};
  for (const attack of ATTACKS) {
    const end = frames.find(
      (f) => f.event === "tool.end" && f.tool_call_id === `atk_${profile}_${attack.id}`,
    );
    if (!end) {
      cells[attack.id] = "no tool result";
      continue;
    }
    const outcome = { isError: end.is_error === true, output: String(end.output) };
    const cell = attack.observe(outcome, ctx);
    cells[attack.id] =
      cell === attack.expected[profile] ? cell : `${cell} <- ${outcome.output.slice(0, 400)}`;
  }
  // Both scripted completions were served (under strict: through the LLM bridge) and the final text arrived.
  const llmWorked =
    stack.fakeLlm.requests().length - requestsBefore >= 2 && assistantTexts(frames).includes(finalText);
  cells[LLM_ROW.id] = llmWorked ? "works" : `fails <- ${JSON.stringify(frames.slice(-3)).slice(0, 400)}`;
  await client.command(sessionId, "session.close");
  return cells;
}

function expectedCells(profile: ProfileName): Record<string, string> {
  const cells: Record<string, string> = {};
  for (const attack of ATTACKS) cells[attack.id] = attack.expected[profile];
  cells[LLM_ROW.id] = LLM_ROW.expected[profile];
  return cells;
}

/** Files the agent must not have changed on the host, whatever its tools reported. */
function expectHostUntouched(profile: ProfileName): void {
  expect(readFileSync(join(stack.runnerDataDir, "sandbox.toml"), "utf8")).toBe('profile = "minimal"\n');
  const choices = JSON.parse(
    readFileSync(join(stack.runnerDataDir, "runner", "workspace-profiles.json"), "utf8"),
  ) as { workspaces: Record<string, string> };
  expect(choices.workspaces[workspaces[profile]]).toBe(profile === "minimal" ? undefined : profile);
  expect(readFileSync(join(stack.home, ".bashrc"), "utf8")).toBe(LOGIN_FILE_TEXT);
  expect(readFileSync(join(stack.home, ".profile"), "utf8")).toBe(LOGIN_FILE_TEXT);
  for (const other of PROFILES) expect(existsSync(join(workspaces[other], "notes.txt"))).toBe(true);
  expect(existsSync(`/etc/${tag}-${profile}`)).toBe(false);
  expect(existsSync(`/usr/local/${tag}-${profile}`)).toBe(false);
  expect(existsSync(join(stack.home, `outside-${profile}.txt`))).toBe(false);
}

for (const profile of PROFILES) {
  test(`under ${profile}, every attack through pi's tools ends as SANDBOX.md §2.1 says`, async () => {
    const cells = await runAttacks(profile);
    observed.set(profile, cells);
    expect(cells).toEqual(expectedCells(profile));
    expectHostUntouched(profile);
  }, 90_000);
}

/**
 * Runs `command` in a fresh web terminal of `workspace`: what it printed between two markers
 * that only running it prints (the echoed command line does not), and its exit status.
 */
async function inTerminal(workspace: string, command: string): Promise<{ output: string; rc: number }> {
  const opened = await client.openTerminal(workspace, { cols: 200, rows: 50 });
  if (opened.type !== "opened") throw new Error(`terminal: ${opened.code}: ${opened.error}`);
  const id = String(opened.terminal_id);
  const from = client.frames.length;
  const data = `echo BEGIN-$((6*7)); ${command}; echo "END-$((6*7)) rc=$?"\r`;
  client.send(JSON.stringify({ channel: "terminal", type: "input", terminal_id: id, data }));
  const deadline = Date.now() + 20_000;
  let text = "";
  let match: RegExpExecArray | null = null;
  while (Date.now() < deadline && !match) {
    await Bun.sleep(25);
    text = client.frames
      .slice(from)
      .filter((f) => f.channel === "terminal" && f.type === "output" && f.terminal_id === id)
      .map((f) => Buffer.from(String(f.data_base64), "base64").toString())
      .join("")
      .replaceAll("\r", "");
    match = /BEGIN-42\n([\s\S]*?)END-42 rc=(\d+)/.exec(text);
  }
  client.send(JSON.stringify({ channel: "terminal", type: "close", terminal_id: id }));
  if (!match) throw new Error(`terminal command did not finish: ${text.slice(-400)}`);
  return { output: match[1] ?? "", rc: Number(match[2]) };
}

for (const profile of PROFILES) {
  test(`under ${profile}, the same attacks from a web terminal end the same way`, async () => {
    const ctx = contextFor(profile);
    const cells: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const attack of ATTACKS.filter((a) => !a.agentOnly)) {
      const { output, rc } = await inTerminal(ctx.workspace, shellCommand(attack.call(ctx)));
      const cell = attack.observe({ isError: rc !== 0, output }, ctx);
      cells[attack.id] = cell === attack.expected[profile] ? cell : `${cell} <- ${output.slice(0, 300)}`;
      expected[attack.id] = attack.expected[profile];
    }
    expect(cells).toEqual(expected);
    expectHostUntouched(profile);
  }, 120_000);
}

test("after every attack a fresh agent in each workspace still runs sandboxed, under its workspace's profile", async () => {
  for (const profile of PROFILES) {
    const ctx = contextFor(profile);
    const sessionId = newSessionId();
    const created = await client.command(sessionId, "session.create", {
      config: { harness: "pi", cwd: ctx.workspace },
    });
    expect(created.success).toBe(true);
    const command = [
      "echo uid=$(id -u)",
      "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status",
      `echo "host-pid=$(test -d /proc/${ctx.testPid} && echo visible || echo absent)"`,
      `echo "data=$(ls -A ${ctx.runnerDataDir} | tr '\\n' ' ')| jwt=$(cat ${stack.dataDir}/jwt-secret >/dev/null 2>&1 && echo read || echo unreadable)"`,
    ].join("; ");
    stack.fakeLlm.script([{ toolCalls: [{ name: "bash", arguments: { command } }] }, { text: "checked" }]);
    const from = client.frames.length;
    await client.command(sessionId, "prompt", { message: `check ${profile} afterwards` });
    const end = await client.waitFor(
      (f) => f.session_id === sessionId && f.event === "tool.end",
      60_000,
      from,
    );
    const output = String(end.output);
    expect(output).toMatch(/uid=[1-9]\d*/);
    expect(output).toMatch(/CapEff:\s+0000000000000000/);
    expect(output).toMatch(/NoNewPrivs:\s+1/);
    expect(output).toContain("host-pid=absent");
    // Only the way to the agent's own dirs (its pi config, cache, session shard) exists in there.
    expect(output).toContain("data=runner | jwt=unreadable");
    await client.event(sessionId, "agent.idle", from, 60_000);
    await client.command(sessionId, "session.close");
    const view = await fetch(`${stack.baseUrl}/api/workspaces/atk-${profile}/sandbox`, {
      headers: { authorization: `Bearer ${stack.admin.token}` },
    });
    expect(((await view.json()) as { profile: string }).profile).toBe(profile);
  }
}, 120_000);

test("no secret reached any event the client received, nor the server's logs", () => {
  expect(observed.size).toBeGreaterThan(0);
  const everything = JSON.stringify(client.frames);
  const logs = stack.logs();
  for (const secret of [secrets.ssh, secrets.aws, secrets.gnupg, otherUser.marker]) {
    expect(everything).not.toContain(secret);
    expect(logs).not.toContain(secret);
  }
  // The probes ran: the allowed read did come back through the same events.
  expect(everything).toContain(WORKSPACE_NOTE);
});

test("docs/SECURITY.md publishes exactly the observed attack table", () => {
  // Only a table whose every cell met its expectation is published.
  for (const profile of PROFILES) expect(observed.get(profile)).toEqual(expectedCells(profile));
  const rows: TableRow[] = [...ATTACKS, LLM_ROW].map((row) => ({
    label: row.label,
    ...(row.note ? { note: row.note } : {}),
    cells: Object.fromEntries(PROFILES.map((p) => [p, observed.get(p)?.[row.id] ?? ""])) as Record<
      ProfileName,
      string
    >,
  }));
  const table = renderAttackTable(rows);
  if (process.env.OQTO_UPDATE_SECURITY_DOC === "1") writeDocSection(SECURITY_DOC, table);
  expect(readDocSection(SECURITY_DOC)).toBe(table);
});
