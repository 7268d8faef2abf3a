/**
 * ConversationSync against a real embedded hstry: a write in the middle of a turn (the prompt, written
 * at once) never stores a tool call before its result, so the call's status is in history once the
 * turn is written, whatever the timing; at the turn's end everything is written, a call that never got
 * a result included.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHistoryStore, type HistoryStore } from "../../src/history/history-store.ts";
import type { Message } from "../../src/protocol/message.ts";
import { type ConversationFacts, ConversationSync } from "../../src/runner/history/conversation-sync.ts";
import { type EmbeddedHstry, startEmbeddedHstry } from "../history/helpers.ts";

let hstry: EmbeddedHstry;
let store: HistoryStore;
beforeAll(async () => {
  hstry = await startEmbeddedHstry();
  store = createHistoryStore(hstry.client);
});
afterAll(async () => {
  await hstry?.close();
});

/** A session's sync, bound to a new conversation. */
async function boundSync(sessionId: string): Promise<ConversationSync> {
  const facts: ConversationFacts = {
    sessionId,
    piSessionId: `pi-${sessionId}`,
    workspace: "/w",
    createdAt: 1,
  };
  const sync = new ConversationSync({ store, facts: () => facts, onDirty: () => {}, log: () => {} });
  await sync.bind({ messageCount: 0, loadMessages: async () => [] });
  return sync;
}

const message = (
  sessionId: string,
  idx: number,
  role: Message["role"],
  parts: Message["parts"],
  extra = {},
) => ({ id: `${sessionId}#${idx}`, idx, role, parts, created_at: idx, ...extra }) as Message;
const user = (s: string, idx: number) => message(s, idx, "user", [{ type: "text", id: "t", text: "go" }]);
const call = (s: string, idx: number, id: string) =>
  message(s, idx, "assistant", [{ type: "tool_call", id: "c", toolCallId: id, name: "write", input: {} }]);
const result = (s: string, idx: number, id: string) =>
  message(s, idx, "tool", [{ type: "tool_result", id: "r", toolCallId: id, isError: false }], {
    tool_call_id: id,
    tool_name: "write",
    is_error: false,
  });
const answer = (s: string, idx: number) =>
  message(s, idx, "assistant", [{ type: "text", id: "a", text: "done" }]);

async function stored(sessionId: string) {
  return (await store.getMessages(`pi-${sessionId}`))?.messages ?? [];
}

test("a mid-turn write keeps back a tool call without its result; the turn's write gives it its status", async () => {
  const s = "cs-race";
  const sync = await boundSync(s);
  sync.record(user(s, 0));
  // The call's message is queued before the prompt's write runs (a busy machine): it waits.
  sync.record(call(s, 1, "call_1"));
  await sync.flush({ settled: true });
  expect((await stored(s)).map((m) => m.idx)).toEqual([0]);

  sync.record(result(s, 2, "call_1"));
  sync.record(answer(s, 3));
  const written = await sync.persistTurn();
  expect(written.ok).toBe(true);
  const rows = await stored(s);
  expect(rows.map((m) => m.idx)).toEqual([0, 1, 2, 3]);
  expect(rows[1]?.parts[0]).toMatchObject({ type: "tool_call", toolCallId: "call_1", status: "success" });
});

test("a settled write takes a call whose result is queued with it; a turn's end writes an unanswered call too", async () => {
  const s = "cs-settled";
  const sync = await boundSync(s);
  sync.record(user(s, 0));
  sync.record(call(s, 1, "call_a"));
  sync.record(result(s, 2, "call_a"));
  sync.record(call(s, 3, "call_b"));
  await sync.flush({ settled: true });
  const early = await stored(s);
  expect(early.map((m) => m.idx)).toEqual([0, 1, 2]);
  expect(early[1]?.parts[0]).toMatchObject({ status: "success" });

  // The turn was aborted before call_b's result: at its end the call is written as it is.
  expect((await sync.persistTurn()).ok).toBe(true);
  const rows = await stored(s);
  expect(rows.map((m) => m.idx)).toEqual([0, 1, 2, 3]);
  expect(rows[3]?.parts[0]).toMatchObject({ type: "tool_call", toolCallId: "call_b" });
  expect(rows[3]?.parts[0]).not.toHaveProperty("status");
});
