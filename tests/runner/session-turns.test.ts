/** Turns against a real pi process and the scripted fake LLM, driven through the SessionManager. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent } from "../../src/protocol/events.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";

let env: RunnerEnv;

beforeAll(async () => {
  env = await RunnerEnv.start();
});
afterAll(async () => {
  await env.stop();
});

/** Events of `sid` from index `from` up to and including the first agent.idle. */
async function turnEvents(sid: string, from: number): Promise<AgentEvent[]> {
  const idle = await env.waitFor(sid, "agent.idle", { from });
  return env.events.slice(from).filter((e) => e.session_id === sid && e.seq <= idle.seq);
}

describe("a turn", () => {
  test("streams text deltas in order with increasing seq, then stream.done and agent.idle", async () => {
    const created = await env.create("s-text");
    expect(created.data).toMatchObject({ session_id: "s-text", resumed: false, already_running: false });
    const first = env.eventsOf("s-text")[0];
    expect(first?.event).toBe("session.created");
    expect(first?.seq).toBe(1);

    env.llm.script([{ text: ["Hel", "lo ", "wor", "ld"] }]);
    const from = env.events.length;
    const response = await env.cmd({ id: "p1", session_id: "s-text", cmd: "prompt", message: "say hello" });
    expect(response).toMatchObject({ event: "response", id: "p1", cmd: "prompt", success: true });

    const events = await turnEvents("s-text", from);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const deltas = events.flatMap((e) => (e.event === "stream.text_delta" ? [e.delta] : []));
    expect(deltas).toEqual(["Hel", "lo ", "wor", "ld"]);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("agent.working");
    expect(names.indexOf("stream.done")).toBeLessThan(names.indexOf("agent.idle"));
    const end = events.find(
      (e): e is Extract<AgentEvent, { event: "stream.message_end" }> =>
        e.event === "stream.message_end" && e.message.role === "assistant",
    );
    expect(end?.message).toMatchObject({
      id: "s-text#1",
      idx: 1,
      stop_reason: "stop",
      provider: "fake",
      model: "fake-model",
      usage: { input_tokens: 100, output_tokens: 20 },
      parts: [{ type: "text", id: "s-text#1/0", text: "Hello world" }],
    });
    // The user message got idx 0 and the same id scheme.
    const userStart = events.find((e) => e.event === "stream.message_start" && e.role === "user");
    expect(userStart).toMatchObject({ message_id: "s-text#0", idx: 0 });
  });

  test("a write tool call creates the file on disk", async () => {
    await env.create("s-write");
    env.llm.script([
      {
        toolCalls: [
          { id: "call_w1", name: "write", arguments: { path: "hello.txt", content: "hi from pi" } },
        ],
      },
      { text: "done" },
    ]);
    const from = env.events.length;
    expect(
      (await env.cmd({ session_id: "s-write", cmd: "prompt", message: "write hello.txt" })).success,
    ).toBe(true);
    const events = await turnEvents("s-write", from);
    expect(readFileSync(join(env.workspace, "hello.txt"), "utf8")).toBe("hi from pi");

    const names = events.map((e) => e.event);
    const start = names.indexOf("stream.tool_call_start");
    expect(start).toBeGreaterThan(-1);
    expect(names.indexOf("stream.tool_call_delta")).toBeGreaterThan(start);
    expect(names.filter((n) => n === "stream.tool_call_start")).toHaveLength(1);
    const args = events.flatMap((e) => (e.event === "stream.tool_call_delta" ? [e.delta] : [])).join("");
    expect(JSON.parse(args)).toEqual({ path: "hello.txt", content: "hi from pi" });
    expect(events.find((e) => e.event === "stream.tool_call_end")).toMatchObject({
      tool_call_id: "call_w1",
      tool_call: { id: "call_w1", name: "write", input: { path: "hello.txt", content: "hi from pi" } },
    });
    expect(events.find((e) => e.event === "tool.end")).toMatchObject({
      tool_call_id: "call_w1",
      is_error: false,
    });
    expect(events.find((e) => e.event === "agent.working" && e.phase === "tool_running")).toMatchObject({
      detail: "write",
    });
    const toolMessage = events.find(
      (e): e is Extract<AgentEvent, { event: "stream.message_end" }> =>
        e.event === "stream.message_end" && e.message.role === "tool",
    );
    expect(toolMessage?.message).toMatchObject({
      tool_call_id: "call_w1",
      tool_name: "write",
      is_error: false,
    });

    // get_messages reports tool call status from the result (persisted view).
    const messages = await env.cmd({ session_id: "s-write", cmd: "get_messages" });
    const data = messages.data as {
      messages: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
    };
    const call = data.messages.flatMap((m) => m.parts).find((p) => p.type === "tool_call");
    expect(call).toMatchObject({ toolCallId: "call_w1", status: "success" });
  });

  test("a bash tool call streams tool.progress with accumulated output", async () => {
    await env.create("s-bash");
    env.llm.script([
      {
        toolCalls: [
          { name: "bash", arguments: { command: "for i in 1 2 3; do echo line$i; sleep 0.15; done" } },
        ],
      },
    ]);
    const from = env.events.length;
    await env.cmd({ session_id: "s-bash", cmd: "prompt", message: "run it" });
    const events = await turnEvents("s-bash", from);
    const progress = events.flatMap((e) => (e.event === "tool.progress" ? [e.partial_output] : []));
    expect(progress.some((p) => p.includes("line1") && !p.includes("line3"))).toBe(true);
    expect(progress.at(-1)).toContain("line3");
    const end = events.find((e) => e.event === "tool.end");
    expect(end).toMatchObject({ name: "bash", is_error: false });
    expect((end as { output: string }).output).toContain("line1\nline2\nline3");
    expect((end as { duration_ms?: number }).duration_ms).toBeGreaterThanOrEqual(300);
  });

  test("thinking deltas arrive for a reasoning model", async () => {
    await env.create("s-think", { provider: "fake", model: "fake-model-2" });
    env.llm.script([{ reasoning: ["let me ", "think"], text: "answer" }]);
    const from = env.events.length;
    await env.cmd({ session_id: "s-think", cmd: "prompt", message: "think please" });
    const events = await turnEvents("s-think", from);
    const thinking = events.flatMap((e) => (e.event === "stream.thinking_delta" ? [e.delta] : []));
    expect(thinking).toEqual(["let me ", "think"]);
    expect(events.some((e) => e.event === "agent.working" && e.phase === "thinking")).toBe(true);
    const end = events.find(
      (e): e is Extract<AgentEvent, { event: "stream.message_end" }> =>
        e.event === "stream.message_end" && e.message.role === "assistant",
    );
    expect(end?.message.model).toBe("fake-model-2");
    expect(end?.message.parts.map((p) => p.type)).toEqual(["thinking", "text"]);
  });

  test("abort mid-stream ends with agent.idle, an aborted message, and the abort response after idle", async () => {
    await env.create("s-abort");
    env.llm.script([{ text: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 20 }]);
    const from = env.events.length;
    await env.cmd({ session_id: "s-abort", cmd: "prompt", message: "long answer" });
    await env.waitFor("s-abort", "stream.text_delta", { from });
    const abort = await env.cmd({ id: "a1", session_id: "s-abort", cmd: "abort" });
    expect(abort).toMatchObject({ success: true, data: { was_running: true } });
    const idle = await env.waitFor("s-abort", "agent.idle", { from });
    // The response carries the seq current when it was made: at or after agent.idle.
    expect(abort.seq).toBeGreaterThanOrEqual(idle.seq);
    const done = await env.waitFor("s-abort", "stream.done", { from });
    expect(done.reason).toBe("aborted");
    const again = await env.cmd({ session_id: "s-abort", cmd: "abort" });
    expect(again.data).toEqual({ was_running: false });
    const state = await env.cmd({ session_id: "s-abort", cmd: "get_state" });
    expect(state.data).toMatchObject({ session_state: "idle", isStreaming: false });
  });

  test("steer and follow_up are delivered while streaming", async () => {
    await env.create("s-steer");
    env.llm.script([
      { text: Array.from({ length: 40 }, (_, i) => `t${i} `), delayMs: 25 },
      { text: "after steer" },
      { text: "after follow-up" },
    ]);
    const from = env.events.length;
    await env.cmd({ session_id: "s-steer", cmd: "prompt", message: "start" });
    await env.waitFor("s-steer", "stream.text_delta", { from });
    const steer = await env.cmd({
      session_id: "s-steer",
      cmd: "steer",
      message: "steer msg",
      client_id: "c-steer",
    });
    const follow = await env.cmd({ session_id: "s-steer", cmd: "follow_up", message: "follow msg" });
    expect(steer.success && follow.success).toBe(true);
    const events = await turnEvents("s-steer", from);
    const queued = events.filter((e) => e.event === "queue.updated");
    expect(queued.some((e) => e.event === "queue.updated" && e.steering.includes("steer msg"))).toBe(true);
    expect(queued.some((e) => e.event === "queue.updated" && e.follow_up.includes("follow msg"))).toBe(true);
    const users = events.flatMap((e) =>
      e.event === "stream.message_end" && e.message.role === "user" ? [e.message] : [],
    );
    expect(users.map((m) => (m.parts[0] as { text: string }).text)).toEqual([
      "start",
      "steer msg",
      "follow msg",
    ]);
    expect(users[1]?.client_id).toBe("c-steer");
    expect(events.filter((e) => e.event === "agent.idle")).toHaveLength(1);
  });

  test("an LLM HTTP 500 becomes agent.error, then agent.idle", async () => {
    await env.create("s-500");
    env.llm.script([{ status: 500, errorBody: { error: { message: "upstream exploded" } } }]);
    const from = env.events.length;
    const response = await env.cmd({ session_id: "s-500", cmd: "prompt", message: "fail please" });
    expect(response.success).toBe(true);
    const events = await turnEvents("s-500", from);
    const error = events.find((e) => e.event === "agent.error");
    expect(error).toMatchObject({ recoverable: true });
    expect((error as { error: string }).error).toContain("500");
    const names = events.map((e) => e.event);
    expect(names.indexOf("agent.error")).toBeLessThan(names.indexOf("agent.idle"));
    expect(events.find((e) => e.event === "stream.done")).toMatchObject({ reason: "error" });
  });

  test("a duplicate client_id succeeds without sending the prompt again", async () => {
    await env.create("s-dedupe");
    env.llm.reset();
    const from = env.events.length;
    const first = await env.cmd({ session_id: "s-dedupe", cmd: "prompt", message: "once", client_id: "c-1" });
    expect(first.success).toBe(true);
    await env.waitFor("s-dedupe", "agent.idle", { from });
    const second = await env.cmd({
      session_id: "s-dedupe",
      cmd: "prompt",
      message: "once",
      client_id: "c-1",
    });
    expect(second.success).toBe(true);
    await Bun.sleep(300);
    expect(env.llm.requests()).toHaveLength(1);
    const users = env
      .eventsOf("s-dedupe")
      .filter((e) => e.event === "stream.message_end" && e.message.role === "user");
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ message: { client_id: "c-1" } });
    const messages = await env.cmd({ session_id: "s-dedupe", cmd: "get_messages" });
    expect(messages.data).toMatchObject({
      message_count: 2,
      messages: [{ role: "user", client_id: "c-1" }, { role: "assistant" }],
    });
  });

  test("pi runs with a clean env: the runner's variables do not leak into tools", async () => {
    process.env.OQTO_TEST_SECRET_KEY = "must-not-leak";
    try {
      await env.create("s-env");
    } finally {
      delete process.env.OQTO_TEST_SECRET_KEY;
    }
    env.llm.script([{ toolCalls: [{ name: "bash", arguments: { command: "env" } }] }]);
    const from = env.events.length;
    await env.cmd({ session_id: "s-env", cmd: "prompt", message: "show env" });
    const events = await turnEvents("s-env", from);
    const output = (events.find((e) => e.event === "tool.end") as { output: string }).output;
    expect(output).toContain("OQTO_SESSION_ID=s-env");
    expect(output).toContain("PI_OFFLINE=1");
    expect(output).toContain(`HOME=${env.home}`);
    expect(output).not.toContain("OQTO_TEST_SECRET_KEY");
  });

  test("an extension dialog becomes agent.input_needed and input_response answers it", async () => {
    const gated = join(env.workspaceRoot, "gated");
    mkdirSync(join(gated, ".pi", "extensions"), { recursive: true });
    writeFileSync(
      join(gated, ".pi", "extensions", "gate.ts"),
      `export default function (pi) {
  pi.on("tool_call", async (event, ctx) => {
    if (event.toolName !== "bash") return undefined;
    const ok = await ctx.ui.confirm("Run bash?", String(event.input.command));
    ctx.ui.notify("answered " + ok, "warning");
    return ok ? undefined : { block: true, reason: "denied by the user" };
  });
}
`,
    );
    await env.create("s-gate", { cwd: gated });
    env.llm.script([
      { toolCalls: [{ name: "bash", arguments: { command: "echo gated-ok" } }] },
      { text: "ran" },
      { toolCalls: [{ name: "bash", arguments: { command: "echo never" } }] },
      { text: "blocked" },
    ]);

    let from = env.events.length;
    await env.cmd({ session_id: "s-gate", cmd: "prompt", message: "run gated" });
    const needed = await env.waitFor("s-gate", "agent.input_needed", { from });
    expect(needed.request).toMatchObject({ type: "confirm", title: "Run bash?", message: "echo gated-ok" });
    const state = await env.cmd({ session_id: "s-gate", cmd: "get_state" });
    expect(state.data).toMatchObject({ pending_inputs: [needed.request] });
    const answer = await env.cmd({
      session_id: "s-gate",
      cmd: "input_response",
      request_id: needed.request.request_id,
      confirmed: true,
    });
    expect(answer.success).toBe(true);
    let events = await turnEvents("s-gate", from);
    expect(events.find((e) => e.event === "agent.input_resolved")).toMatchObject({ reason: "answered" });
    expect(events.find((e) => e.event === "notify")).toMatchObject({
      level: "warning",
      message: "answered true",
    });
    expect(events.find((e) => e.event === "tool.end")).toMatchObject({ is_error: false });
    expect((events.find((e) => e.event === "tool.end") as { output: string }).output).toContain("gated-ok");
    const twice = await env.cmd({
      session_id: "s-gate",
      cmd: "input_response",
      request_id: needed.request.request_id,
      confirmed: true,
    });
    expect(twice).toMatchObject({ success: false, error_code: "not_found" });

    from = env.events.length;
    await env.cmd({ session_id: "s-gate", cmd: "prompt", message: "run gated again" });
    const second = await env.waitFor("s-gate", "agent.input_needed", { from });
    await env.cmd({
      session_id: "s-gate",
      cmd: "input_response",
      request_id: second.request.request_id,
      cancelled: true,
    });
    events = await turnEvents("s-gate", from);
    expect(events.find((e) => e.event === "agent.input_resolved")).toMatchObject({ reason: "cancelled" });
    expect(events.find((e) => e.event === "tool.end")).toMatchObject({ is_error: true });
  });

  test("with auto-retry on, an errored run is retried inside the same turn (one agent.idle)", async () => {
    const retrying = join(env.workspaceRoot, "retrying");
    mkdirSync(join(retrying, ".pi"), { recursive: true });
    writeFileSync(
      join(retrying, ".pi", "settings.json"),
      JSON.stringify({ retry: { enabled: true, maxRetries: 2, baseDelayMs: 50 } }),
    );
    await env.create("s-retry", { cwd: retrying });
    env.llm.script([{ status: 500, errorBody: { error: { message: "try again" } } }, { text: "recovered" }]);
    const from = env.events.length;
    await env.cmd({ session_id: "s-retry", cmd: "prompt", message: "flaky" });
    await env.waitFor("s-retry", "retry.end", { from });
    const events = await turnEvents("s-retry", from);
    const names = events.map((e) => e.event);
    expect(names.filter((n) => n === "agent.idle")).toHaveLength(1);
    expect(names.indexOf("agent.error")).toBeLessThan(names.indexOf("retry.start"));
    expect(events.find((e) => e.event === "retry.start")).toMatchObject({ attempt: 1 });
    expect(events.find((e) => e.event === "retry.end")).toMatchObject({ success: true });
    expect(events.some((e) => e.event === "agent.working" && e.phase === "retrying")).toBe(true);
    const last = events.filter((e) => e.event === "stream.message_end").at(-1);
    expect(last).toMatchObject({
      message: { role: "assistant", stop_reason: "stop", parts: [{ text: "recovered" }] },
    });
    expect(names.at(-1)).toBe("agent.idle");
  });

  test("compact summarizes through the model and reports compact.start / compact.end", async () => {
    await env.create("s-compact");
    env.llm.script([{ text: "first" }]);
    let from = env.events.length;
    await env.cmd({ session_id: "s-compact", cmd: "prompt", message: "some context" });
    await env.waitFor("s-compact", "agent.idle", { from });
    from = env.events.length;
    const response = await env.cmd({ session_id: "s-compact", cmd: "compact", instructions: "be brief" });
    expect(response.success).toBe(true);
    expect(response.data).toMatchObject({
      summary: expect.stringContaining("##"),
      tokens_before: expect.any(Number),
    });
    expect(typeof (response.data as { first_kept_entry_id: unknown }).first_kept_entry_id).toBe("string");
    const events = env.events.slice(from).filter((e) => e.session_id === "s-compact");
    expect(events.map((e) => e.event)).toEqual(["compact.start", "compact.end"]);
    expect(events[1]).toMatchObject({ success: true, will_retry: false });
    const state = await env.cmd({ session_id: "s-compact", cmd: "get_state" });
    expect(state.data).toMatchObject({ session_state: "idle" });
    // History keeps its positions after the compaction.
    const messages = await env.cmd({ session_id: "s-compact", cmd: "get_messages" });
    expect(messages.data).toMatchObject({
      message_count: 2,
      messages: [{ id: "s-compact#0" }, { id: "s-compact#1" }],
    });
  });
});
