/**
 * Persist-then-idle (PROTOCOL.md §1.7-2) against a real pi, the fake LLM and a real embedded hstry
 * over gRPC: what a turn streamed is in history before agent.idle; when history is down the turn is
 * reported, kept and written later (next turn, session close, runner start); titles and forks.
 */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { AgentEvent, AgentEventOf } from "../../src/protocol/events.ts";
import type { Message } from "../../src/protocol/message.ts";
import { SessionHistory } from "../../src/runner/history/session-history.ts";
import { HistoryRunnerEnv } from "./history-env.ts";

const SLOW = 60_000;
let env: HistoryRunnerEnv;

beforeAll(async () => {
  env = await HistoryRunnerEnv.start();
});
afterAll(async () => {
  await env.stop();
});

function streamed(events: AgentEvent[]): Message[] {
  return events.flatMap((e) => (e.event === "stream.message_end" ? [e.message] : []));
}

async function piSessionIdOf(sessionId: string): Promise<string> {
  const state = await env.cmd({ session_id: sessionId, cmd: "get_state" });
  return (state.data as { sessionId: string }).sessionId;
}

async function stored(sessionId: string): Promise<Message[]> {
  const result = await env.store.getMessages(await piSessionIdOf(sessionId));
  if (!result) throw new Error(`no conversation for ${sessionId}`);
  return result.messages;
}

function idle(events: AgentEvent[]): AgentEventOf<"agent.idle"> {
  const found = events.find((e) => e.event === "agent.idle");
  if (!found) throw new Error("no agent.idle");
  return found as AgentEventOf<"agent.idle">;
}

function dirtyFlag(sessionId: string): number | undefined {
  const db = new Database(join(env.stateDir, "runner.db"), { readonly: true });
  try {
    const row = db.query("SELECT history_dirty FROM sessions WHERE session_id = ?").get(sessionId) as
      | { history_dirty: number }
      | undefined;
    return row?.history_dirty;
  } finally {
    db.close();
  }
}

describe("persist, then idle", () => {
  test(
    "a turn with a tool call is in history, with the live ids, before agent.idle; idle carries the version",
    async () => {
      await env.create("h-turn");
      const piSessionId = await piSessionIdOf("h-turn");
      const created = await env.store.getConversation(piSessionId);
      expect(created).toMatchObject({ sessionId: "h-turn", workspace: env.workspace, messageCount: 0 });
      expect(created?.metadata.pi_session_file).toEqual(expect.stringContaining(piSessionId));

      env.llm.script([
        { toolCalls: [{ id: "call_1", name: "write", arguments: { path: "a.txt", content: "x" } }] },
        { text: "wrote a.txt" },
      ]);
      const events = await env.turn("h-turn", "write a.txt please");
      const live = streamed(events);
      expect(live.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
      const rows = await stored("h-turn");
      expect(rows.map((m) => m.id)).toEqual(live.map((m) => m.id));
      expect(rows.map((m) => m.id)).toEqual(["h-turn#0", "h-turn#1", "h-turn#2", "h-turn#3"]);
      // Persisted tool calls carry their result's status; the rest is what was streamed.
      const call = rows[1]?.parts.find((p) => p.type === "tool_call");
      expect(call).toMatchObject({ toolCallId: "call_1", status: "success" });
      expect(rows[3]).toEqual(live[3] as Message);

      const conversation = await env.store.getConversation(piSessionId);
      expect(idle(events).message_version).toEqual({
        version: conversation?.version as number,
        message_count: 4,
      });
      expect(conversation?.title).toBe("write a.txt please");

      // A second turn appends after the first: no duplicates, no gaps.
      env.llm.script([{ text: "second answer" }]);
      const second = await env.turn("h-turn", "and again");
      expect(idle(second).message_version?.message_count).toBe(6);
      expect((await stored("h-turn")).map((m) => m.idx)).toEqual([0, 1, 2, 3, 4, 5]);

      // get_messages reads history: the same rows, the same version.
      const messages = await env.cmd({ session_id: "h-turn", cmd: "get_messages", limit: 2 });
      expect(messages.data).toMatchObject({
        message_count: 6,
        version: idle(second).message_version?.version as number,
      });
      expect((messages.data as { messages: Message[] }).messages.map((m) => m.id)).toEqual([
        "h-turn#4",
        "h-turn#5",
      ]);
    },
    SLOW,
  );

  test(
    "history down: agent.error{history_unavailable} + agent.idle without version; the next turn writes both",
    async () => {
      await env.create("h-down");
      env.llm.script([{ text: "first answer" }]);
      await env.turn("h-down", "first question");
      await env.stopHistory();
      try {
        env.llm.script([{ text: "answer while down" }]);
        const started = Date.now();
        const events = await env.turn("h-down", "question while down");
        // Three retries (0.1 s, 0.5 s, 2 s) happen before the turn is reported.
        expect(Date.now() - started).toBeGreaterThanOrEqual(2_600);
        const names = events.map((e) => e.event);
        const error = events.find((e) => e.event === "agent.error") as AgentEventOf<"agent.error">;
        expect(error).toMatchObject({ code: "history_unavailable", recoverable: true });
        expect(names.indexOf("agent.error")).toBe(names.length - 2);
        expect(names.at(-1)).toBe("agent.idle");
        expect(idle(events).message_version).toBeUndefined();
        expect(dirtyFlag("h-down")).toBe(1);
        // Reads still work while history is down: pi answers.
        const during = await env.cmd({ session_id: "h-down", cmd: "get_messages" });
        expect((during.data as { messages: Message[] }).messages.map((m) => m.idx)).toEqual([0, 1, 2, 3]);
      } finally {
        await env.startHistory();
      }
      env.llm.script([{ text: "answer after" }]);
      const after = await env.turn("h-down", "question after");
      expect(idle(after).message_version?.message_count).toBe(6);
      expect(after.some((e) => e.event === "agent.error")).toBe(false);
      const rows = await stored("h-down");
      expect(rows.map((m) => m.id)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `h-down#${i}`));
      expect(rows.map((m) => (m.parts[0] as { text?: string }).text)).toEqual([
        "first question",
        "first answer",
        "question while down",
        "answer while down",
        "question after",
        "answer after",
      ]);
      expect(dirtyFlag("h-down")).toBe(0);
    },
    SLOW,
  );

  test(
    "rows kept while history was down are written when the session closes",
    async () => {
      await env.create("h-close");
      const piSessionId = await piSessionIdOf("h-close");
      await env.stopHistory();
      try {
        env.llm.script([{ text: "unsaved answer" }]);
        const events = await env.turn("h-close", "unsaved question");
        expect(events.some((e) => e.event === "agent.error" && e.code === "history_unavailable")).toBe(true);
      } finally {
        await env.startHistory();
      }
      const rowsOf = async () => (await env.store.getMessages(piSessionId))?.messages.map((m) => m.id);
      expect(await rowsOf()).toEqual([]);
      expect((await env.cmd({ session_id: "h-close", cmd: "session.close" })).success).toBe(true);
      expect(await rowsOf()).toEqual(["h-close#0", "h-close#1"]);
      expect(dirtyFlag("h-close")).toBe(0);
    },
    SLOW,
  );

  test(
    "a runner that stopped with unsaved rows completes history from pi's session file at the next start",
    async () => {
      await env.create("h-restart");
      const piSessionId = await piSessionIdOf("h-restart");
      await env.stopHistory();
      env.llm.script([{ text: "lost in memory" }]);
      await env.turn("h-restart", "remember this");
      // The runner goes away while history is still down: close cannot write either.
      await env.manager.shutdown(1);
      expect(dirtyFlag("h-restart")).toBe(1);
      await env.startHistory();
      expect((await env.store.getMessages(piSessionId))?.messages).toEqual([]);

      env.manager = env.createManager();
      const deadline = Date.now() + 10_000;
      while (dirtyFlag("h-restart") !== 0 && Date.now() < deadline) await Bun.sleep(50);
      expect(dirtyFlag("h-restart")).toBe(0);
      const rows = (await env.store.getMessages(piSessionId))?.messages ?? [];
      expect(rows.map((m) => m.id)).toEqual(["h-restart#0", "h-restart#1"]);
      expect(rows.map((m) => (m.parts[0] as { text?: string }).text)).toEqual([
        "remember this",
        "lost in memory",
      ]);
    },
    SLOW,
  );
});

describe("failed turns are persisted too", () => {
  test(
    "an LLM error, an abort and a pi crash each end with their messages in history before agent.idle",
    async () => {
      await env.create("h-fail");
      env.llm.script([{ status: 500, errorBody: { error: { message: "upstream exploded" } } }]);
      const failed = await env.turn("h-fail", "this fails");
      expect(idle(failed).message_version?.message_count).toBe(2);
      const errored = (await stored("h-fail"))[1];
      expect(errored).toMatchObject({ role: "assistant", stop_reason: "error" });
      expect(String(errored?.metadata?.error_message)).toContain("500");

      env.llm.script([{ text: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 20 }]);
      let from = env.events.length;
      await env.cmd({ session_id: "h-fail", cmd: "prompt", message: "talk a lot" });
      await env.waitFor("h-fail", "stream.text_delta", { from });
      const abort = await env.cmd({ session_id: "h-fail", cmd: "abort" });
      expect(abort.data).toEqual({ was_running: true });
      const abortedIdle = await env.waitFor("h-fail", "agent.idle", { from });
      expect(abortedIdle.message_version?.message_count).toBe(4);
      expect((await stored("h-fail"))[3]).toMatchObject({ role: "assistant", stop_reason: "aborted" });

      env.llm.script([{ hang: true }]);
      from = env.events.length;
      await env.cmd({ session_id: "h-fail", cmd: "prompt", message: "this turn dies" });
      await env.waitFor("h-fail", "agent.working", { from });
      const piSessionId = await piSessionIdOf("h-fail");
      const pid = env.manager.status().sessions.find((s) => s.session_id === "h-fail")?.pid as number;
      process.kill(pid, "SIGKILL");
      await env.waitFor("h-fail", "session.closed", { from });
      const names = env.events
        .slice(from)
        .filter((e) => e.session_id === "h-fail")
        .map((e) => e.event);
      expect(names.slice(-3)).toEqual(["agent.error", "agent.idle", "session.closed"]);
      const crashIdle = await env.waitFor("h-fail", "agent.idle", { from });
      expect(crashIdle.message_version?.message_count).toBe(5);
      const rows = (await env.store.getMessages(piSessionId))?.messages ?? [];
      expect(rows[4]).toMatchObject({ role: "user", parts: [{ text: "this turn dies" }] });
      env.llm.reset();
    },
    SLOW,
  );
});

describe("conversation updates", () => {
  test(
    "set_session_name and a rename through the history methods update the title",
    async () => {
      await env.create("h-title");
      env.llm.script([{ text: "ok" }]);
      await env.turn("h-title", "the first words");
      const piSessionId = await piSessionIdOf("h-title");
      expect((await env.store.getConversation(piSessionId))?.title).toBe("the first words");

      const from = env.events.length;
      expect((await env.cmd({ session_id: "h-title", cmd: "set_session_name", name: "Named" })).success).toBe(
        true,
      );
      await env.waitFor("h-title", "session.title_changed", { from });
      const deadline = Date.now() + 5_000;
      while ((await env.store.getConversation(piSessionId))?.title !== "Named" && Date.now() < deadline)
        await Bun.sleep(25);
      expect((await env.store.getConversation(piSessionId))?.title).toBe("Named");

      const history = new SessionHistory({ store: env.store, sessions: env.manager });
      const renameFrom = env.events.length;
      await history.rename("h-title", "Renamed");
      const changed = await env.waitFor("h-title", "session.title_changed", { from: renameFrom });
      expect(changed.title).toBe("Renamed");
      expect(await history.get("h-title")).toMatchObject({
        session_id: "h-title",
        pi_session_id: piSessionId,
        title: "Renamed",
        message_count: 2,
        live: { state: "idle" },
      });
      // (bun's `expect(promise).rejects` stalls on a promise that waits for socket I/O.)
      const unknown = await history.rename("h-nope", "x").then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(unknown).toMatchObject({ code: "session_not_found" });
    },
    SLOW,
  );

  test(
    "fork writes a new conversation with the parent's rows before the forked message and its lineage",
    async () => {
      await env.create("h-parent");
      env.llm.script([{ text: "answer one" }, { text: "answer two" }]);
      await env.turn("h-parent", "question one");
      await env.turn("h-parent", "question two");
      const parentPi = await piSessionIdOf("h-parent");
      const points = await env.cmd({ session_id: "h-parent", cmd: "get_fork_points" });
      const second = (points.data as Array<{ entry_id: string }>)[1] as { entry_id: string };
      const fork = await env.cmd({ session_id: "h-parent", cmd: "fork", entry_id: second.entry_id });
      const child = (fork.data as { new_session_id: string }).new_session_id;
      await env.waitFor(child, "session.created");

      const childPi = await piSessionIdOf(child);
      const parentRows = (await env.store.getMessages(parentPi))?.conversationId as string;
      const conversation = await env.store.getConversation(childPi);
      expect(conversation).toMatchObject({
        sessionId: child,
        parentConversationId: parentRows,
        parentMessageIdx: 2,
        forkType: "fork",
        messageCount: 2,
      });
      expect(conversation?.metadata.parent_session_id).toBe("h-parent");
      const rows = await stored(child);
      expect(rows.map((m) => m.id)).toEqual([`${child}#0`, `${child}#1`]);
      expect(rows[0]?.parts[0]?.id).toBe(`${child}#0/0`);
      expect(rows.map((m) => (m.parts[0] as { text?: string }).text)).toEqual(["question one", "answer one"]);

      env.llm.script([{ text: "forked answer" }]);
      const events = await env.turn(child, "question three");
      expect(idle(events).message_version?.message_count).toBe(4);
      const history = new SessionHistory({ store: env.store, sessions: env.manager });
      expect(await history.get(child)).toMatchObject({
        parent_session_id: "h-parent",
        fork_type: "fork",
        message_count: 4,
      });

      // A new session started from a parent records it too (nothing is copied).
      const fresh = await env.cmd({ session_id: child, cmd: "session.new", parent_session: "h-parent" });
      const next = (fresh.data as { session_id: string }).session_id;
      await env.waitFor(next, "session.created");
      expect(await history.get(next)).toMatchObject({
        parent_session_id: "h-parent",
        fork_type: "fork",
        message_count: 0,
      });
    },
    SLOW,
  );

  test(
    "session.delete removes the conversation; nothing is written for it afterwards",
    async () => {
      await env.create("h-del");
      env.llm.script([{ text: "bye" }]);
      await env.turn("h-del", "to be deleted");
      const piSessionId = await piSessionIdOf("h-del");
      expect(await env.store.getConversation(piSessionId)).not.toBeNull();
      expect((await env.cmd({ session_id: "h-del", cmd: "session.delete" })).success).toBe(true);
      await Bun.sleep(200);
      expect(await env.store.getConversation(piSessionId)).toBeNull();
      const again = await env.cmd({ session_id: "h-del", cmd: "get_messages" });
      expect(again).toMatchObject({ success: false, error_code: "session_not_found" });
    },
    SLOW,
  );
});

describe("an interrupted turn keeps what streamed", () => {
  const textOf = (message: Message | undefined) =>
    (message?.parts ?? []).map((part) => ("text" in part ? String(part.text) : "")).join("");
  async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(50);
    }
  }

  test(
    "the prompt is in history at once, the answer is checkpointed as interrupted, and pi killed mid-answer leaves it",
    async () => {
      await env.create("h-cut");
      const words = Array.from({ length: 400 }, (_, i) => `w${i} `);
      env.llm.script([{ text: words, delayMs: 20 }]);
      const from = env.events.length;
      await env.cmd({ session_id: "h-cut", cmd: "prompt", message: "stream for a while" });
      await env.waitFor("h-cut", "stream.text_delta", { from });
      const piSessionId = await piSessionIdOf("h-cut");
      const rows = async () => (await env.store.getMessages(piSessionId))?.messages ?? [];

      // The prompt long before the turn ends, and a checkpoint of the answer while it streams.
      const prompt = await until(
        async () => (await rows()).find((m) => m.role === "user"),
        "the prompt in history",
      );
      expect(textOf(prompt)).toBe("stream for a while");
      const checkpoint = await until(
        async () => (await rows()).find((m) => m.role === "assistant" && m.metadata?.interrupted === true),
        "a checkpoint of the answer",
        5_000,
      );
      expect(textOf(checkpoint)).toStartWith("w0 w1 ");

      await Bun.sleep(500);
      const pid = env.manager.status().sessions.find((s) => s.session_id === "h-cut")?.pid as number;
      process.kill(pid, "SIGKILL");
      await env.waitFor("h-cut", "agent.idle", { from });
      const live = streamed(env.events.slice(from).filter((e) => e.session_id === "h-cut"));
      const interrupted = live.find((m) => m.role === "assistant");
      expect(interrupted).toMatchObject({ stop_reason: "aborted", metadata: { interrupted: true } });
      const stored = await rows();
      expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);
      const answer = stored[1];
      expect(answer).toMatchObject({ stop_reason: "aborted", metadata: { interrupted: true } });
      // More than the checkpoint had, less than the whole answer: what had streamed when pi died.
      expect(textOf(answer).length).toBeGreaterThanOrEqual(textOf(checkpoint).length);
      expect(textOf(answer).length).toBeLessThan(words.join("").length);
      expect(textOf(answer)).toStartWith(textOf(checkpoint).trimEnd());
      env.llm.reset();
    },
    SLOW,
  );
});
