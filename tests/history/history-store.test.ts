/** The HistoryStore facade over a real embedded service: the calls Oqto makes (HSTRY.md §5.3). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createHistoryClient } from "../../src/history/client.ts";
import {
  type ConversationRecord,
  createHistoryStore,
  type HistoryStore,
} from "../../src/history/history-store.ts";
import { ProtocolError } from "../../src/protocol/common.ts";
import type { Message } from "../../src/protocol/message.ts";
import { type EmbeddedHstry, startEmbeddedHstry } from "./helpers.ts";

let hstry: EmbeddedHstry;
let store: HistoryStore;

beforeAll(async () => {
  hstry = await startEmbeddedHstry();
  store = createHistoryStore(hstry.client);
});
afterAll(() => hstry.close());

function record(piSessionId: string, overrides: Partial<ConversationRecord> = {}): ConversationRecord {
  return {
    piSessionId,
    sessionId: `oqto-${piSessionId}`,
    workspace: "/home/u/oqto/project",
    createdAt: 1_700_000_000_000,
    model: "gpt-test",
    provider: "fake",
    metadata: { oqto_user_id: "u1", pi_session_file: `/s/${piSessionId}.jsonl` },
    ...overrides,
  };
}

function text(sessionId: string, idx: number, role: "user" | "assistant", words: string): Message {
  return {
    id: `${sessionId}#${idx}`,
    idx,
    role,
    parts: [{ type: "text", id: `${sessionId}#${idx}/0`, text: words }],
    created_at: 1_700_000_000_000 + idx,
    ...(role === "assistant" ? { model: "gpt-test", provider: "fake", stop_reason: "stop" as const } : {}),
  };
}

describe("HistoryStore", () => {
  test("ensureConversation creates, then re-binds and continues at message_count", async () => {
    const first = await store.ensureConversation(record("pi-1"));
    expect(first.nextIdx).toBe(0);
    const version = await store.appendMessages(record("pi-1"), [
      text("oqto-pi-1", 0, "user", "hello there"),
      text("oqto-pi-1", 1, "assistant", "general kenobi"),
    ]);
    expect(version.messageCount).toBe(2);

    const again = await store.ensureConversation(
      record("pi-1", { sessionId: "oqto-rebound", model: "gpt-2" }),
    );
    expect(again).toEqual({ conversationId: first.conversationId, nextIdx: 2 });
    const stored = await store.getConversation("pi-1");
    expect(stored).toMatchObject({
      piSessionId: "pi-1",
      sessionId: "oqto-rebound",
      model: "gpt-2",
      workspace: "/home/u/oqto/project",
      metadata: { oqto_user_id: "u1", pi_session_file: "/s/pi-1.jsonl" },
      messageCount: 2,
      version: version.version + 1,
    });
  });

  test("getMessages returns canonical messages with ids from the current session id, and the version", async () => {
    const result = await store.getMessages("pi-1");
    expect(result?.messages.map((m) => m.id)).toEqual(["oqto-rebound#0", "oqto-rebound#1"]);
    expect(result?.messages[1]).toMatchObject({ role: "assistant", stop_reason: "stop", model: "gpt-test" });
    expect(result?.version.messageCount).toBe(2);
    const tail = await store.getMessages("pi-1", 1);
    expect(tail?.messages.map((m) => m.idx)).toEqual([1]);
    expect(await store.getMessages("pi-unknown")).toBeNull();
  });

  test("appendMessages recreates a conversation history lost (NOT_FOUND -> WriteConversation)", async () => {
    const rows = [text("oqto-pi-2", 0, "user", "first words"), text("oqto-pi-2", 1, "assistant", "reply")];
    const version = await store.appendMessages(record("pi-2", { title: "Recreated" }), rows);
    expect(version.messageCount).toBe(2);
    const stored = await store.getConversation("pi-2");
    expect(stored?.title).toBe("Recreated");
    expect((await store.getMessages("pi-2"))?.messages).toEqual(rows);
  });

  test("appendMessages is positional: a retried turn does not duplicate rows", async () => {
    const rows = [text("oqto-pi-2", 2, "user", "again"), text("oqto-pi-2", 3, "assistant", "sure")];
    const first = await store.appendMessages(record("pi-2"), rows);
    const retry = await store.appendMessages(record("pi-2"), rows);
    expect(retry.messageCount).toBe(first.messageCount);
    expect(retry.version).toBeGreaterThan(first.version);
    expect((await store.getMessages("pi-2"))?.messages.map((m) => m.idx)).toEqual([0, 1, 2, 3]);
  });

  test("writeConversation writes a fork with its lineage and the parent's prefix", async () => {
    const parent = await store.getMessages("pi-2");
    if (!parent) throw new Error("parent missing");
    const prefix = parent.messages.slice(0, 2);
    const version = await store.writeConversation(
      record("pi-fork", { parent: { conversationId: parent.conversationId, messageIdx: 2 } }),
      prefix,
    );
    expect(version.messageCount).toBe(2);
    expect(await store.getConversation("pi-fork")).toMatchObject({
      parentConversationId: parent.conversationId,
      parentMessageIdx: 2,
      forkType: "fork",
    });
  });

  test("updateConversation renames without reordering; listConversations lists by last write, newest first", async () => {
    await store.updateConversation("pi-1", { title: "Renamed" });
    await store.appendMessages(record("pi-3", { workspace: "/elsewhere" }), [
      text("oqto-pi-3", 0, "user", "x"),
    ]);
    const inProject = await store.listConversations({
      workspace: "/home/u/oqto/project",
      limit: 10,
      offset: 0,
    });
    expect(inProject.map((c) => c.piSessionId)).toEqual(["pi-fork", "pi-2", "pi-1"]);
    expect(inProject[2]).toMatchObject({
      title: "Renamed",
      firstUserMessage: "hello there",
      messageCount: 2,
    });
    const all = await store.listConversations({ limit: 2, offset: 0 });
    expect(all).toHaveLength(2);
  });

  test("search returns hits keyed by pi session id", async () => {
    const hits = await store.search({ query: "kenobi" });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ piSessionId: "pi-1", idx: 1, role: "assistant", title: "Renamed" });
    expect(hits[0]?.snippet).toContain("kenobi");
    expect(await store.search({ query: "kenobi", workspace: "/elsewhere" })).toEqual([]);
  });

  test("deleteConversation reports whether there was anything to delete", async () => {
    expect(await store.deleteConversation("pi-3")).toBe(true);
    expect(await store.deleteConversation("pi-3")).toBe(false);
    expect(await store.getConversation("pi-3")).toBeNull();
  });

  test("hstry verdicts keep their meaning as protocol errors", async () => {
    await expect(store.updateConversation("pi-missing", { title: "x" })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(store.search({ query: " " })).rejects.toMatchObject({ code: "invalid_request" });
  });

  test("an unreachable service is history_unavailable", async () => {
    const dir = mkdtempSync("/tmp/hu-");
    const client = createHistoryClient({ socketPath: join(dir, "nobody.sock") });
    const offline = createHistoryStore(client);
    try {
      let caught: unknown;
      try {
        await offline.appendMessages(record("pi-off"), [text("oqto-pi-off", 0, "user", "kept?")]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code).toBe("history_unavailable");
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a URL target must be plain http (hstry speaks cleartext HTTP/2 only)", () => {
    expect(() => createHistoryClient({ url: "https://127.0.0.1:1" })).toThrow(
      "hstry url must be http://host:port",
    );
    expect(() => createHistoryClient({ url: "not a url" })).toThrow();
  });
});
