/**
 * The chat spine through the real path: WebSocket client -> oqto serve -> oqto runner -> pi
 * -> fake LLM. Every assertion here is about what a browser would see.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let client: MuxClient;
let workspace: string;

async function createSession(mux = client, cwd = workspace): Promise<string> {
  const sessionId = newSessionId();
  const res = await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd } });
  expect(res.success).toBe(true);
  return sessionId;
}

/** Sends a prompt and resolves with the session's events from the prompt up to its agent.idle. */
async function runTurn(sessionId: string, message: string, mux = client): Promise<Frame[]> {
  const from = mux.frames.length;
  const res = await mux.command(sessionId, "prompt", { message });
  expect(res.success).toBe(true);
  await mux.event(sessionId, "agent.idle", from, 60_000);
  return mux.frames.slice(from).filter((f) => f.session_id === sessionId && f.event !== "response");
}

function seqs(frames: Frame[]): number[] {
  return frames.map((f) => f.seq as number);
}

function piPidsIn(cwd: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        // pi itself, not the bwrap process around it (whose argv holds pi's too).
        return (
          readlinkSync(`/proc/${pid}/cwd`) === cwd &&
          cmdline.includes("--mode\0rpc") &&
          !cmdline.split("\0")[0]?.endsWith("bwrap")
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  stack = await startStack({ runnerConfig: "replay_buffer_events = 200" });
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "main" }),
  });
  expect(res.status).toBe(201);
  workspace = ((await res.json()) as { path: string }).path;
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe("auth", () => {
  test("REST and WebSocket refuse unauthenticated requests with 401", async () => {
    const rest = await fetch(`${stack.baseUrl}/api/workspaces`);
    expect(rest.status).toBe(401);
    expect(((await rest.json()) as { code: string }).code).toBe("UNAUTHORIZED");
    const ws = await fetch(`${stack.baseUrl}/api/ws/mux`, {
      headers: { upgrade: "websocket", connection: "upgrade" },
    });
    expect(ws.status).toBe(401);
    const bad = await fetch(`${stack.baseUrl}/api/ws/mux?token=not-a-jwt`, {
      headers: { upgrade: "websocket" },
    });
    expect(bad.status).toBe(401);
  });
});

describe("providers", () => {
  test("get_models lists the models of the configured providers", async () => {
    const res = await client.command("_system", "get_models");
    expect(res.success).toBe(true);
    const models = res.data as Array<{ provider: string; id: string }>;
    expect(models.map((m) => `${m.provider}/${m.id}`).sort()).toEqual([
      "fake/fake-model",
      "fake/fake-model-2",
    ]);
  });
});

describe("streaming chat", () => {
  test("streamed text arrives in order with increasing seq", async () => {
    const sessionId = await createSession();
    const created = await client.event(sessionId, "session.created");
    expect(created.workspace_path).toBe(workspace);
    await stack.fakeLlm.script([{ text: ["Hel", "lo ", "wor", "ld", "!"] }]);
    const events = await runTurn(sessionId, "say hello");
    const deltas = events.filter((f) => f.event === "stream.text_delta").map((f) => f.delta);
    expect(deltas.join("")).toBe("Hello world!");
    const all = seqs(client.events(sessionId));
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(new Set(all).size).toBe(all.length);
    expect(all[0]).toBe(1);
    const title = events.find((f) => f.event === "session.title_changed");
    expect(title?.title).toBe("say hello");
    const list = await client.command("_system", "list_sessions");
    const listed = (list.data as { sessions: Array<{ session_id: string; title?: string }> }).sessions;
    expect(listed.find((s) => s.session_id === sessionId)?.title).toBe("say hello");
    const end = events.filter((f) => f.event === "stream.message_end").at(-1) as Frame;
    const message = end.message as { role: string; parts: Array<{ type: string; text?: string }> };
    expect(message.role).toBe("assistant");
    expect(message.parts.find((p) => p.type === "text")?.text).toBe("Hello world!");
  });

  test("a write tool call creates the file on disk", async () => {
    const sessionId = await createSession();
    await stack.fakeLlm.script([
      { toolCalls: [{ name: "write", arguments: { path: "hello.txt", content: "written by pi\n" } }] },
      { text: "Done." },
    ]);
    const events = await runTurn(sessionId, "create hello.txt");
    expect(events.some((f) => f.event === "stream.tool_call_start" && f.name === "write")).toBe(true);
    const end = events.find((f) => f.event === "tool.end") as Frame;
    expect(end.is_error).toBe(false);
    expect(readFileSync(join(workspace, "hello.txt"), "utf8")).toBe("written by pi\n");
  });

  test("a bash tool call streams its output", async () => {
    const sessionId = await createSession();
    const command = "for i in 1 2 3; do echo line$i; sleep 0.2; done";
    await stack.fakeLlm.script([
      { toolCalls: [{ name: "bash", arguments: { command } }] },
      { text: "ran it" },
    ]);
    const events = await runTurn(sessionId, "run the loop");
    const progress = events.filter((f) => f.event === "tool.progress").map((f) => String(f.partial_output));
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.some((p) => p.includes("line1") && !p.includes("line3"))).toBe(true);
    const end = events.find((f) => f.event === "tool.end") as Frame;
    expect(String(end.output)).toContain("line3");
  });

  test("thinking deltas arrive", async () => {
    const sessionId = newSessionId();
    const res = await client.command(sessionId, "session.create", {
      config: { harness: "pi", cwd: workspace, provider: "fake", model: "fake-model-2" },
    });
    expect(res.success).toBe(true);
    await stack.fakeLlm.script([{ reasoning: ["Let me ", "think."], text: "Answer." }]);
    const events = await runTurn(sessionId, "think first");
    const thinking = events.filter((f) => f.event === "stream.thinking_delta").map((f) => f.delta);
    expect(thinking.join("")).toBe("Let me think.");
  });

  test("an LLM HTTP 500 becomes a visible error, not a hang", async () => {
    const sessionId = await createSession();
    await stack.fakeLlm.script([{ status: 500, errorBody: { error: { message: "upstream exploded" } } }]);
    const events = await runTurn(sessionId, "fail please");
    const error = events.find((f) => f.event === "agent.error") as Frame;
    expect(error).toBeDefined();
    expect(String(error.error)).toContain("500");
    expect(events.at(-1)?.event).toBe("agent.idle");
  });

  test("abort mid-stream ends with agent.idle and an aborted message; the response follows idle", async () => {
    const sessionId = await createSession();
    await stack.fakeLlm.script([{ text: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 30 }]);
    const from = client.frames.length;
    await client.command(sessionId, "prompt", { message: "talk a lot" });
    await client.event(sessionId, "stream.text_delta", from);
    const abort = await client.command(sessionId, "abort");
    expect(abort.success).toBe(true);
    expect((abort.data as { was_running: boolean }).was_running).toBe(true);
    const frames = client.frames.slice(from);
    const idleAt = frames.findIndex((f) => f.session_id === sessionId && f.event === "agent.idle");
    const abortAt = frames.indexOf(abort);
    expect(idleAt).toBeGreaterThan(-1);
    expect(idleAt).toBeLessThan(abortAt);
    const ends = frames.filter((f) => f.event === "stream.message_end" && f.session_id === sessionId);
    const last = ends.at(-1)?.message as { stop_reason?: string } | undefined;
    expect(last?.stop_reason).toBe("aborted");
  });

  test("steer and follow-up are delivered while the agent works", async () => {
    const sessionId = await createSession();
    await stack.fakeLlm.script([
      { text: Array.from({ length: 40 }, (_, i) => `a${i} `), delayMs: 25 },
      { match: "steer this way", text: "steered" },
      { match: "and then this", text: "followed" },
    ]);
    const from = client.frames.length;
    await client.command(sessionId, "prompt", { message: "start long work" });
    await client.event(sessionId, "stream.text_delta", from);
    expect((await client.command(sessionId, "steer", { message: "steer this way" })).success).toBe(true);
    expect((await client.command(sessionId, "follow_up", { message: "and then this" })).success).toBe(true);
    await client.waitFor(
      (f) =>
        f.session_id === sessionId && f.event === "queue.updated" && (f.follow_up as string[]).length === 1,
      10_000,
      from,
    );
    await client.event(sessionId, "agent.idle", from, 60_000);
    const users = client.frames
      .slice(from)
      .filter((f) => f.session_id === sessionId && f.event === "stream.message_end")
      .map((f) => f.message as { role: string; parts: Array<{ text?: string }> })
      .filter((m) => m.role === "user")
      .map((m) => m.parts[0]?.text);
    expect(users).toEqual(["start long work", "steer this way", "and then this"]);
    const texts = client.frames
      .slice(from)
      .filter((f) => f.session_id === sessionId && f.event === "stream.text_delta")
      .map((f) => f.delta)
      .join("");
    expect(texts).toContain("steered");
    expect(texts).toContain("followed");
  });
});

describe("reconnect", () => {
  test("a client that reconnects with after_seq receives exactly the missed events", async () => {
    const sessionId = await createSession();
    const first = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    expect((await first.command(sessionId, "session.subscribe", { after_seq: 0 })).success).toBe(true);
    await stack.fakeLlm.script([{ text: Array.from({ length: 60 }, (_, i) => `r${i} `), delayMs: 15 }]);
    await client.command(sessionId, "prompt", { message: "stream for the reconnect" });
    await first.waitFor((f) => f.session_id === sessionId && f.event === "stream.text_delta");
    first.close();
    const seen = first.events(sessionId);
    const lastSeq = Math.max(...seqs(seen));
    await client.event(sessionId, "agent.idle", 0, 60_000);

    const second = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    const sub = await second.command(sessionId, "session.subscribe", { after_seq: lastSeq });
    expect(sub.success).toBe(true);
    await second.event(sessionId, "agent.idle");
    const replayed = seqs(second.events(sessionId));
    const full = seqs(client.events(sessionId)).filter((s) => s > lastSeq);
    expect(replayed).toEqual(full);
    expect(replayed[0]).toBe(lastSeq + 1);
    second.close();
  });

  test("too old a seq gives stream.resync_required", async () => {
    const sessionId = await createSession();
    await stack.fakeLlm.script([{ text: Array.from({ length: 250 }, (_, i) => `x${i} `) }]);
    await runTurn(sessionId, "overflow the replay buffer");
    const other = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    const sub = await other.command(sessionId, "session.subscribe", { after_seq: 1 });
    expect((sub.data as { resync_required: boolean }).resync_required).toBe(true);
    const resync = await other.event(sessionId, "stream.resync_required");
    expect(resync.reason).toBe("replay_window");
    expect(resync.current_seq).toBe((sub.data as { seq: number }).seq);
    other.close();
  });
});

describe("faults", () => {
  test("kill -9 of pi mid-turn gives agent.error, and the session continues afterwards", async () => {
    const dir = join(stack.workspaceRoot, "crash");
    mkdirSync(dir, { recursive: true });
    stack.own(dir);
    const sessionId = await createSession(client, dir);
    await stack.fakeLlm.script([{ text: "before the crash" }]);
    await runTurn(sessionId, "remember the word pineapple");
    await stack.fakeLlm.script([{ hang: true }]);
    const from = client.frames.length;
    await client.command(sessionId, "prompt", { message: "this turn dies" });
    await client.event(sessionId, "agent.working", from);
    const pids = piPidsIn(dir);
    expect(pids.length).toBe(1);
    process.kill(pids[0] as number, "SIGKILL");
    const error = await client.event(sessionId, "agent.error", from);
    expect(error.recoverable).toBe(false);
    await client.event(sessionId, "session.closed", from);

    await stack.fakeLlm.script([{ text: "back again" }], true);
    const events = await runTurn(sessionId, "are you there?");
    expect(
      events
        .filter((f) => f.event === "stream.text_delta")
        .map((f) => f.delta)
        .join(""),
    ).toBe("back again");
    const requests = await stack.fakeLlm.requests();
    expect(JSON.stringify(requests.at(-1))).toContain("pineapple");
  });

  test("kill -9 of the runner: serve restarts it and the client recovers", async () => {
    const sessionId = await createSession();
    await stack.fakeLlm.script([{ text: "first life" }]);
    await runTurn(sessionId, "remember mango");
    const runnerPid = Number(
      readdirSync("/proc").find((pid) => {
        try {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
          return cmd.includes("runner\0") && cmd.includes(stack.runnerDataDir);
        } catch {
          return false;
        }
      }),
    );
    expect(runnerPid).toBeGreaterThan(0);
    const from = client.frames.length;
    process.kill(runnerPid, "SIGKILL");
    await client.waitFor((f) => f.type === "runner_status" && f.state === "disconnected", 15_000, from);
    await client.waitFor((f) => f.type === "runner_status" && f.state === "connected", 30_000, from);
    const resync = await client.event(sessionId, "stream.resync_required", from);
    expect(resync.reason).toBe("epoch_changed");
    await stack.fakeLlm.script([{ text: "second life" }], true);
    const events = await runTurn(sessionId, "still remember?");
    expect(
      events
        .filter((f) => f.event === "stream.text_delta")
        .map((f) => f.delta)
        .join(""),
    ).toBe("second life");
    expect(JSON.stringify((await stack.fakeLlm.requests()).at(-1))).toContain("mango");
  });
});

describe("bad input", () => {
  test("malformed frames get clear errors and the connection keeps working", async () => {
    const mux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
    let from = mux.frames.length;
    mux.send("{not json");
    expect((await mux.waitFor((f) => f.type === "error", 5000, from)).code).toBe("invalid_request");

    from = mux.frames.length;
    mux.send(JSON.stringify({ channel: "nope", id: "c1" }));
    const unknownChannel = await mux.waitFor((f) => f.type === "error", 5000, from);
    expect(unknownChannel.code).toBe("invalid_request");
    expect(unknownChannel.id).toBe("c1");

    const unknownCmd = await mux.command(newSessionId(), "frobnicate");
    expect(unknownCmd.success).toBe(false);
    expect(unknownCmd.error_code).toBe("invalid_request");

    const missing = await mux.command(newSessionId(), "prompt", { message: "hello?" });
    expect(missing.error_code).toBe("session_not_found");

    const unknownField = await mux.command(newSessionId(), "abort", { surprise: 1 });
    expect(unknownField.error_code).toBe("invalid_request");

    const outside = await mux.command(newSessionId(), "session.create", {
      config: { harness: "pi", cwd: "/etc" },
    });
    expect(outside.error_code).toBe("path_not_allowed");

    from = mux.frames.length;
    mux.send(
      JSON.stringify({
        channel: "agent",
        session_id: "_system",
        cmd: "list_sessions",
        pad: "x".repeat(16 * 1024 * 1024),
      }),
    );
    expect((await mux.waitFor((f) => f.type === "error", 10_000, from)).code).toBe("too_large");

    const list = await mux.command("_system", "list_sessions");
    expect(list.success).toBe(true);
    mux.close();
    const health = await fetch(`${stack.baseUrl}/api/health`);
    expect(health.status).toBe(200);
  });

  test("another user's session is not found, and their session list stays private", async () => {
    const token = await stack.addUser("mallory", "mallory-password");
    const mallory = await MuxClient.connect(stack.wsUrl, token);
    const victim = await createSession();
    for (const cmd of ["prompt", "get_state", "abort", "session.subscribe"]) {
      const res = await mallory.command(victim, cmd, cmd === "prompt" ? { message: "hi" } : {});
      expect(res.success).toBe(false);
      expect(res.error_code).toBe("session_not_found");
    }
    const hijack = await mallory.command(victim, "session.create", {
      config: { harness: "pi", cwd: workspace },
    });
    expect(hijack.success).toBe(false);
    const list = await mallory.command("_system", "list_sessions");
    expect((list.data as { sessions: unknown[] }).sessions).toEqual([]);
    // Her own session cannot reach the victim's conversation either.
    const own = await createSession(mallory);
    const viaParent = await mallory.command(own, "session.new", { parent_session: victim });
    expect(viaParent.error_code).toBe("session_not_found");
    const viaSwitch = await mallory.command(own, "session.switch", { target_session_id: victim });
    expect(viaSwitch.error_code).toBe("session_not_found");
    const viaContinue = await mallory.command(newSessionId(), "session.create", {
      config: { harness: "pi", cwd: workspace, continue_session: victim },
    });
    expect(viaContinue.error_code).toBe("session_not_found");
    expect(existsSync(workspace)).toBe(true);
    mallory.close();
  });
});
