/** Session lifecycle against a real pi: guards, crash + resume, replay, watchdog, restart, re-binding. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent } from "../../src/protocol/events.ts";
import type { Message } from "../../src/protocol/message.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";

const SLOW = 30_000;
let env: RunnerEnv;

beforeAll(async () => {
  env = await RunnerEnv.start({
    runner: { silence_timeout_s: 1, abort_timeout_s: 1, replay_buffer_events: 16 },
  });
});
afterAll(async () => {
  await env.stop();
});

function pidOf(sessionId: string): number {
  const pid = env.manager.status().sessions.find((s) => s.session_id === sessionId)?.pid;
  if (pid === undefined) throw new Error(`${sessionId} has no process`);
  return pid;
}

async function messagesOf(sessionId: string): Promise<Message[]> {
  const response = await env.cmd({ session_id: sessionId, cmd: "get_messages" });
  expect(response.success).toBe(true);
  return (response.data as { messages: Message[] }).messages;
}

async function runTurn(sessionId: string, message: string) {
  const from = env.events.length;
  const response = await env.cmd({ session_id: sessionId, cmd: "prompt", message });
  expect(response.success).toBe(true);
  return env.waitFor(sessionId, "agent.idle", { from });
}

describe("guards and bad input", () => {
  test("unknown session -> session_not_found", async () => {
    const response = await env.cmd({ id: "x", session_id: "nope", cmd: "prompt", message: "hi" });
    expect(response).toMatchObject({ id: "x", success: false, error_code: "session_not_found", seq: 0 });
    expect(() => env.manager.subscribe("nope")).toThrow("unknown session");
  });

  test("cwd outside the workspace root -> path_not_allowed; missing cwd -> path_not_found", async () => {
    const outside = join(env.dir, "elsewhere");
    mkdirSync(outside);
    const config = { harness: "pi" as const, cwd: outside };
    const response = await env.cmd({ session_id: "s-out", cmd: "session.create", config });
    expect(response).toMatchObject({ success: false, error_code: "path_not_allowed" });
    // A symlink inside the root pointing out is resolved and refused too.
    const link = join(env.workspaceRoot, "escape");
    await Bun.$`ln -s ${outside} ${link}`;
    const viaLink = await env.cmd({
      session_id: "s-out",
      cmd: "session.create",
      config: { ...config, cwd: link },
    });
    expect(viaLink).toMatchObject({ success: false, error_code: "path_not_allowed" });
    const root = await env.cmd({
      session_id: "s-out",
      cmd: "session.create",
      config: { ...config, cwd: env.workspaceRoot },
    });
    expect(root).toMatchObject({ success: false, error_code: "path_not_allowed" });
    const missing = await env.cmd({
      session_id: "s-out",
      cmd: "session.create",
      config: { ...config, cwd: join(env.workspaceRoot, "missing") },
    });
    expect(missing).toMatchObject({ success: false, error_code: "path_not_found" });
    const file = join(env.workspaceRoot, "file.txt");
    writeFileSync(file, "x");
    const notDir = await env.cmd({
      session_id: "s-out",
      cmd: "session.create",
      config: { ...config, cwd: file },
    });
    expect(notDir).toMatchObject({ success: false, error_code: "not_a_directory" });
  });

  test("an invalid command is refused with invalid_request naming the field", async () => {
    const blank = await env.cmd({ session_id: "s-any", cmd: "prompt", message: "   " });
    expect(blank).toMatchObject({ success: false, error_code: "invalid_request" });
    expect(blank.error).toContain("message");
    const unknownField = await env.cmd({ session_id: "s-any", cmd: "abort", extra: 1 } as never);
    expect(unknownField).toMatchObject({ success: false, error_code: "invalid_request" });
    const delegate = await env.cmd({ session_id: "s-any", cmd: "delegate" });
    expect(delegate).toMatchObject({ success: false, error_code: "not_supported" });
  });

  test(
    "prompt while streaming -> session_busy; set_model while streaming -> session_busy",
    async () => {
      await env.create("s-busy");
      env.llm.script([{ text: Array.from({ length: 30 }, (_, i) => `b${i} `), delayMs: 20 }]);
      const from = env.events.length;
      await env.cmd({ session_id: "s-busy", cmd: "prompt", message: "long" });
      await env.waitFor("s-busy", "stream.text_delta", { from });
      const busy = await env.cmd({ session_id: "s-busy", cmd: "prompt", message: "again" });
      expect(busy).toMatchObject({ success: false, error_code: "session_busy" });
      const model = await env.cmd({
        session_id: "s-busy",
        cmd: "set_model",
        provider: "fake",
        model_id: "fake-model-2",
      });
      expect(model).toMatchObject({ success: false, error_code: "session_busy" });
      await env.waitFor("s-busy", "agent.idle", { from });
      const ok = await env.cmd({
        session_id: "s-busy",
        cmd: "set_model",
        provider: "fake",
        model_id: "fake-model-2",
      });
      expect(ok).toMatchObject({ success: true, data: { provider: "fake", model_id: "fake-model-2" } });
      expect(env.eventsOf("s-busy").at(-1)).toMatchObject({
        event: "config.model_changed",
        model_id: "fake-model-2",
      });
      const unknown = await env.cmd({
        session_id: "s-busy",
        cmd: "set_model",
        provider: "fake",
        model_id: "nope",
      });
      expect(unknown).toMatchObject({ success: false, error_code: "harness_error" });
      const before = env.events.length;
      const level = await env.cmd({ session_id: "s-busy", cmd: "set_thinking_level", level: "high" });
      expect(level).toMatchObject({ success: true, data: { level: "high" } });
      const changes = env.events.slice(before).filter((e) => e.event === "config.thinking_level_changed");
      expect(changes).toMatchObject([{ session_id: "s-busy", level: "high" }]);
    },
    SLOW,
  );

  test("input_response for an unknown request -> not_found", async () => {
    await env.create("s-input");
    const response = await env.cmd({
      session_id: "s-input",
      cmd: "input_response",
      request_id: "r-1",
      value: "x",
    });
    expect(response).toMatchObject({ success: false, error_code: "not_found" });
  });
});

describe("crash and resume", () => {
  test(
    "kill -9 mid-turn -> agent.error + session.closed{exited}; the next prompt resumes the same pi session",
    async () => {
      const created = await env.create("s-crash");
      const epoch = (created.data as { epoch: string }).epoch;
      env.llm.script([{ text: "first answer" }]);
      await runTurn("s-crash", "first question");
      const piSessionId = (created.data as { pi_session_id: string }).pi_session_id;

      env.llm.script([{ text: Array.from({ length: 100 }, (_, i) => `c${i} `), delayMs: 30 }]);
      const from = env.events.length;
      await env.cmd({ session_id: "s-crash", cmd: "prompt", message: "second question" });
      await env.waitFor("s-crash", "stream.text_delta", { from });
      process.kill(pidOf("s-crash"), "SIGKILL");

      const closed = await env.waitFor("s-crash", "session.closed", { from });
      expect(closed.reason).toBe("exited");
      const after = env.events.slice(from).filter((e) => e.session_id === "s-crash" && e.seq <= closed.seq);
      const names = after.map((e) => e.event);
      const error = after.find((e) => e.event === "agent.error");
      expect(error).toMatchObject({ recoverable: false });
      expect(names.indexOf("agent.error")).toBeLessThan(names.indexOf("agent.idle"));
      expect(names.indexOf("agent.idle")).toBeLessThan(names.indexOf("session.closed"));
      expect(env.manager.status().sessions.some((s) => s.session_id === "s-crash")).toBe(false);

      const stopped = await env.cmd({ session_id: "s-crash", cmd: "get_state" });
      expect(stopped.data).toMatchObject({ session_state: "closed", epoch, seq: closed.seq });
      const notRunning = await env.cmd({ session_id: "s-crash", cmd: "get_stats" });
      expect(notRunning).toMatchObject({ success: false, error_code: "session_not_running" });

      env.llm.script([{ text: "resumed answer" }]);
      const idle = await runTurn("s-crash", "third question");
      expect(idle.seq).toBeGreaterThan(closed.seq);
      const state = await env.cmd({ session_id: "s-crash", cmd: "get_state" });
      expect(state.data).toMatchObject({ sessionId: piSessionId, epoch, session_state: "idle" });
      const texts = (await messagesOf("s-crash")).map(
        (m) => (m.parts[0] as { text?: string } | undefined)?.text,
      );
      expect(texts).toContain("first question");
      expect(texts).toContain("first answer");
      expect(texts).toContain("third question");
      expect(texts.at(-1)).toBe("resumed answer");
      // idx numbering continued after the messages that were already in the pi session.
      const resumedUser = env
        .eventsOf("s-crash")
        .filter((e) => e.event === "stream.message_start")
        .at(-2);
      const all = await messagesOf("s-crash");
      expect(resumedUser).toMatchObject({
        idx: all.findIndex((m) => m.parts.some((p) => "text" in p && p.text === "third question")),
      });
    },
    SLOW,
  );

  test(
    "abort fallback: pi that does not end the turn is killed, then agent.error + agent.idle + abort response",
    async () => {
      await env.create("s-stuck");
      env.llm.script([{ text: Array.from({ length: 100 }, (_, i) => `s${i} `), delayMs: 30 }]);
      const from = env.events.length;
      await env.cmd({ session_id: "s-stuck", cmd: "prompt", message: "go" });
      await env.waitFor("s-stuck", "stream.text_delta", { from });
      const pid = pidOf("s-stuck");
      process.kill(pid, "SIGSTOP");
      const abort = await env.cmd({ session_id: "s-stuck", cmd: "abort" });
      expect(abort).toMatchObject({ success: true, data: { was_running: true } });
      const idle = await env.waitFor("s-stuck", "agent.idle", { from });
      expect(abort.seq).toBeGreaterThanOrEqual(idle.seq);
      const error = await env.waitFor("s-stuck", "agent.error", { from });
      expect(error).toMatchObject({ recoverable: true });
      expect(error.seq).toBeLessThan(idle.seq);
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      env.llm.script([{ text: "back" }]);
      await runTurn("s-stuck", "again");
    },
    SLOW,
  );
});

describe("replay", () => {
  test(
    "subscribe(after_seq) returns exactly the missed lines; too old -> resync_required",
    async () => {
      await env.create("s-replay");
      env.llm.script([{ text: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"] }]);
      const idle = await runTurn("s-replay", "letters");
      const lines = env.lines.filter((l) => l.includes('"session_id":"s-replay"'));
      expect(idle.seq).toBeGreaterThan(16);

      const afterSeq = idle.seq - 5;
      const result = env.manager.subscribe("s-replay", afterSeq);
      expect(result.resync_required).toBe(false);
      expect(result.events).toEqual(lines.slice(-5));
      expect(result.seq).toBe(idle.seq);

      const upToDate = env.manager.subscribe("s-replay", idle.seq);
      expect(upToDate.events).toEqual([]);
      const live = env.manager.subscribe("s-replay");
      expect(live).toMatchObject({ events: [], resync_required: false, running: true });

      const old = env.manager.subscribe("s-replay", 0);
      expect(old.resync_required).toBe(true);
      expect(old.dropped_count).toBe(idle.seq - 16);
      const future = env.manager.subscribe("s-replay", idle.seq + 10);
      expect(future.resync_required).toBe(true);

      // Not subscribed: events are buffered but not broadcast, and replay delivers them.
      env.manager.unsubscribe("s-replay");
      const before = env.lines.length;
      const named = await env.cmd({ session_id: "s-replay", cmd: "set_session_name", name: "Letters" });
      expect(named.success).toBe(true);
      expect(env.lines.length).toBe(before);
      const missed = env.manager.subscribe("s-replay", idle.seq);
      expect(missed.events).toHaveLength(1);
      expect(JSON.parse(missed.events[0] as string)).toMatchObject({
        event: "session.title_changed",
        title: "Letters",
        seq: idle.seq + 1,
      });
    },
    SLOW,
  );

  test("session.subscribe as a command replays after the response", async () => {
    const seq = (await env.cmd({ session_id: "s-replay", cmd: "get_state" })).seq;
    const before = env.lines.length;
    const response = await env.cmd({ session_id: "s-replay", cmd: "session.subscribe", after_seq: seq - 2 });
    expect(response).toMatchObject({ success: true, data: { replayed: 2, resync_required: false } });
    expect(env.lines.length).toBe(before);
    await Bun.sleep(20);
    expect(env.lines.length).toBe(before + 2);
  });
});

describe("watchdog", () => {
  test(
    "a hanging model call ends with agent.error{code:watchdog} and agent.idle",
    async () => {
      await env.create("s-hang");
      env.llm.script([{ hang: true }]);
      const from = env.events.length;
      await env.cmd({ session_id: "s-hang", cmd: "prompt", message: "hang" });
      const idle = await env.waitFor("s-hang", "agent.idle", { from, timeoutMs: 10_000 });
      const error = await env.waitFor("s-hang", "agent.error", { from });
      expect(error).toMatchObject({ code: "watchdog", recoverable: true });
      expect(error.seq).toBeLessThan(idle.seq);
      env.llm.script([{ text: "fine again" }]);
      await runTurn("s-hang", "next");
    },
    SLOW,
  );
});

describe("system commands", () => {
  test("list_sessions and get_models on _system", async () => {
    const list = await env.cmd({ session_id: "_system", cmd: "list_sessions" });
    expect(list.seq).toBe(0);
    const sessions = (list.data as { sessions: Array<Record<string, unknown>> }).sessions;
    expect(sessions.find((s) => s.session_id === "s-replay")).toMatchObject({
      state: "idle",
      workspace_path: env.workspace,
      provider: "fake",
      title: "Letters",
      subscriber_count: 1,
    });
    const models = await env.cmd({ session_id: "_system", cmd: "get_models" });
    expect(models.data).toEqual([
      expect.objectContaining({
        provider: "fake",
        id: "fake-model",
        reasoning: false,
        contextWindow: 128000,
      }),
      expect.objectContaining({ provider: "fake", id: "fake-model-2", reasoning: true }),
    ]);
    const running = await env.cmd({ session_id: "s-replay", cmd: "get_models" });
    expect((running.data as Array<{ id: string }>).map((m) => m.id).sort()).toEqual([
      "fake-model",
      "fake-model-2",
    ]);
    const refused = await env.cmd({ session_id: "_system", cmd: "prompt", message: "x" });
    expect(refused).toMatchObject({ success: false, error_code: "invalid_request" });
  });
});

describe("re-binding", () => {
  test(
    "session.new ends the old stream as replaced and starts a new one on the same process",
    async () => {
      await env.create("s-old");
      await runTurn("s-old", "before new");
      const pid = pidOf("s-old");
      const from = env.events.length;
      const response = await env.cmd({ session_id: "s-old", cmd: "session.new" });
      expect(response.success).toBe(true);
      const next = (response.data as { session_id: string }).session_id;
      expect(next).toMatch(/^oqto-/);
      const closed = await env.waitFor("s-old", "session.closed", { from });
      expect(closed).toMatchObject({ reason: "replaced", next_session_id: next });
      const created = await env.waitFor(next, "session.created", { from });
      expect(created).toMatchObject({ seq: 1, resumed: false });
      expect(pidOf(next)).toBe(pid);
      expect(await messagesOf(next)).toEqual([]);
      await runTurn(next, "in the new session");
      expect((await messagesOf(next))[0]?.id).toBe(`${next}#0`);
    },
    SLOW,
  );

  test(
    "fork re-binds to a new session holding the messages before the forked user message",
    async () => {
      await env.create("s-fork");
      await runTurn("s-fork", "one");
      await runTurn("s-fork", "two");
      const points = await env.cmd({ session_id: "s-fork", cmd: "get_fork_points" });
      const list = points.data as Array<{ entry_id: string; preview: string }>;
      expect(list.map((p) => p.preview)).toEqual(["one", "two"]);
      const fork = await env.cmd({
        session_id: "s-fork",
        cmd: "fork",
        entry_id: (list[1] as { entry_id: string }).entry_id,
      });
      expect(fork.data).toMatchObject({ text: "two", cancelled: false });
      const next = (fork.data as { new_session_id: string }).new_session_id;
      const messages = await messagesOf(next);
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
      const from = env.events.length;
      await runTurn(next, "three");
      const start = env.events
        .slice(from)
        .find(
          (e): e is Extract<AgentEvent, { event: "stream.message_start" }> =>
            e.session_id === next && e.event === "stream.message_start",
        );
      expect(start?.idx).toBe(2);
    },
    SLOW,
  );
});

describe("continue and switch", () => {
  test(
    "session.create with continue_session resumes another session's pi session; session.switch re-binds to it",
    async () => {
      const source = await env.create("s-src");
      const piSessionId = (source.data as { pi_session_id: string }).pi_session_id;
      await runTurn("s-src", "original question");
      const busy = await env.cmd({
        session_id: "s-cont",
        cmd: "session.create",
        config: { harness: "pi", cwd: env.workspace, continue_session: "s-src" },
      });
      expect(busy).toMatchObject({ success: false, error_code: "session_busy" });
      await env.cmd({ session_id: "s-src", cmd: "session.close" });

      const cont = await env.create("s-cont", { continue_session: piSessionId });
      expect(cont.data).toMatchObject({ resumed: true, pi_session_id: piSessionId });
      const texts = (await messagesOf("s-cont")).map((m) => (m.parts[0] as { text?: string }).text);
      expect(texts[0]).toBe("original question");
      await env.cmd({ session_id: "s-cont", cmd: "session.close" });
      const unknown = await env.cmd({
        session_id: "s-x",
        cmd: "session.create",
        config: { harness: "pi", cwd: env.workspace, continue_session: "no-such-session" },
      });
      expect(unknown).toMatchObject({ success: false, error_code: "not_found" });

      await env.create("s-a");
      const from = env.events.length;
      const switched = await env.cmd({
        session_id: "s-a",
        cmd: "session.switch",
        target_session_id: "s-src",
      });
      expect(switched).toMatchObject({ success: true, data: { session_id: "s-src" } });
      expect(await env.waitFor("s-a", "session.closed", { from })).toMatchObject({
        reason: "replaced",
        next_session_id: "s-src",
      });
      expect(await env.waitFor("s-src", "session.created", { from })).toMatchObject({
        seq: 1,
        resumed: true,
      });
      const state = await env.cmd({ session_id: "s-src", cmd: "get_state" });
      expect(state.data).toMatchObject({ sessionId: piSessionId, session_state: "idle" });
      const stopped = await env.cmd({ session_id: "s-a", cmd: "get_state" });
      expect(stopped.data).toMatchObject({ session_state: "closed" });
    },
    SLOW,
  );
});

describe("close, delete and runner restart", () => {
  test(
    "the session index survives a new SessionManager: prompt and session.create resume the pi session",
    async () => {
      const created = await env.create("s-persist");
      const piSessionId = (created.data as { pi_session_id: string }).pi_session_id;
      env.llm.script([{ text: "remembered" }]);
      await runTurn("s-persist", "remember this");
      await env.manager.shutdown(2);
      const closed = env.eventsOf("s-persist").at(-1);
      expect(closed).toMatchObject({ event: "session.closed", reason: "runner_shutdown" });

      env.manager = env.createManager();
      const from = env.events.length;
      env.manager.subscribe("s-persist");
      env.llm.script([{ text: "still here" }]);
      await runTurn("s-persist", "after restart");
      // A new stream (new runner process) starts with session.created{resumed:true}.
      expect(env.events.slice(from).find((e) => e.session_id === "s-persist")).toMatchObject({
        event: "session.created",
        seq: 1,
        resumed: true,
        pi_session_id: piSessionId,
      });
      const roles = (await messagesOf("s-persist")).map((m) => m.role);
      expect(roles).toEqual(["user", "assistant", "user", "assistant"]);

      await env.cmd({ session_id: "s-persist", cmd: "session.close" });
      const again = await env.create("s-persist");
      expect(again.data).toMatchObject({ resumed: true, pi_session_id: piSessionId });
      const running = await env.create("s-persist");
      expect(running.data).toMatchObject({ already_running: true, pi_session_id: piSessionId });
    },
    SLOW,
  );

  test(
    "session.delete ends the stream and removes the pi session file and the index entry",
    async () => {
      const created = await env.create("s-delete");
      await runTurn("s-delete", "to be deleted");
      const state = await env.cmd({ session_id: "s-delete", cmd: "get_state" });
      const file = (state.data as { sessionFile: string }).sessionFile;
      expect(existsSync(file)).toBe(true);
      expect(created.success).toBe(true);
      const from = env.events.length;
      const response = await env.cmd({ session_id: "s-delete", cmd: "session.delete" });
      expect(response.success).toBe(true);
      expect(await env.waitFor("s-delete", "session.closed", { from })).toMatchObject({ reason: "deleted" });
      expect(existsSync(file)).toBe(false);
      const gone = await env.cmd({ session_id: "s-delete", cmd: "get_state" });
      expect(gone).toMatchObject({ success: false, error_code: "session_not_found" });
    },
    SLOW,
  );

  test(
    "an idle session without subscribers is stopped after idle_timeout_s",
    async () => {
      await env.manager.shutdown(1);
      env.manager = env.createManager({ runner: { idle_timeout_s: 0.5 } });
      await env.create("s-idle");
      env.manager.unsubscribe("s-idle");
      const seq = (await env.cmd({ session_id: "s-idle", cmd: "get_state" })).seq;
      await Bun.sleep(1500);
      expect(env.manager.status().sessions.some((s) => s.session_id === "s-idle")).toBe(false);
      const replay = env.manager.subscribe("s-idle", seq);
      expect(replay.events.map((l) => JSON.parse(l).event)).toEqual(["session.closed"]);
      expect(JSON.parse(replay.events[0] as string).reason).toBe("idle_timeout");
    },
    SLOW,
  );

  test(
    "start watchdog: no agent_start after a prompt -> agent.error{watchdog}, pi killed, agent.idle; next prompt resumes",
    async () => {
      await env.manager.shutdown(1);
      env.manager = env.createManager({ runner: { start_timeout_s: 1, abort_timeout_s: 1 } });
      await env.create("s-nostart");
      const from = env.events.length;
      const pid = pidOf("s-nostart");
      process.kill(pid, "SIGSTOP");
      const prompt = await env.cmd({ session_id: "s-nostart", cmd: "prompt", message: "never starts" });
      expect(prompt).toMatchObject({ success: false, error_code: "harness_error" });
      const idle = await env.waitFor("s-nostart", "agent.idle", { from });
      const errors = env.events
        .slice(from)
        .filter((e) => e.session_id === "s-nostart" && e.event === "agent.error");
      expect(errors[0]).toMatchObject({ code: "watchdog", recoverable: true });
      expect(errors.every((e) => e.seq < idle.seq)).toBe(true);
      expect(existsSync(`/proc/${pid}`)).toBe(false);
      env.llm.script([{ text: "alive" }]);
      await runTurn("s-nostart", "try again");
    },
    SLOW,
  );
});
