/** Behaviour of the embedded service beyond the shared contract: files, SQLite, validation, wire edge cases. */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { createHistoryClient } from "../../src/history/client.ts";
import { startHstryService } from "../../src/history/service/server.ts";
import { type EmbeddedHstry, expectCode, startEmbeddedHstry } from "./helpers.ts";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("files and sockets", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync("/tmp/hf-");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("socket and DB are 0600 and the socket is gone after stop", async () => {
    const socketPath = join(dir, "a", "h.sock");
    const dbPath = join(dir, "a", "data", "h.db");
    const service = await startHstryService({ socketPath, dbPath, log: () => {} });
    expect(mode(socketPath)).toBe(0o600);
    expect(mode(dbPath)).toBe(0o600);
    expect(mode(`${dbPath}-wal`)).toBe(0o600);
    expect(mode(join(dir, "a"))).toBe(0o700);
    await service.stop();
    expect(() => statSync(socketPath)).toThrow();
  });

  test("a stale socket file from a dead process is replaced", async () => {
    const socketPath = join(dir, "stale.sock");
    // A process that dies by SIGKILL leaves its socket file behind.
    const holder = Bun.spawn(
      [
        "bun",
        "-e",
        `require("node:net").createServer().listen(${JSON.stringify(socketPath)}, () => console.log("up"))`,
      ],
      { stdout: "pipe" },
    );
    const reader = holder.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("up");
    holder.kill("SIGKILL");
    await holder.exited;
    expect(statSync(socketPath).isSocket()).toBe(true);

    const service = await startHstryService({ socketPath, dbPath: join(dir, "stale.db"), log: () => {} });
    const client = createHistoryClient({ socketPath });
    expect((await client.read.listConversations({})).conversations).toEqual([]);
    client.close();
    await service.stop();
  });

  test("a socket another process listens on is not taken over", async () => {
    const embedded = await startEmbeddedHstry();
    try {
      await expect(
        startHstryService({ socketPath: embedded.socketPath, dbPath: join(dir, "second.db"), log: () => {} }),
      ).rejects.toThrow("already listening");
      // the first service still answers
      expect((await embedded.client.read.listConversations({})).conversations).toEqual([]);
    } finally {
      await embedded.close();
    }
  });

  test("a path that is not a socket is never deleted", async () => {
    const socketPath = join(dir, "regular-file");
    writeFileSync(socketPath, "keep me");
    await expect(startHstryService({ socketPath, dbPath: join(dir, "r.db"), log: () => {} })).rejects.toThrow(
      "is not a socket",
    );
    expect(statSync(socketPath).isFile()).toBe(true);
  });

  test("a socket path too long for sun_path is a clear error", async () => {
    const socketPath = join(dir, "x".repeat(120), "h.sock");
    await expect(startHstryService({ socketPath, dbPath: join(dir, "l.db"), log: () => {} })).rejects.toThrow(
      "socket path is longer than",
    );
  });

  test("data survives a restart on the same DB", async () => {
    const socketPath = join(dir, "restart.sock");
    const dbPath = join(dir, "restart.db");
    let service = await startHstryService({ socketPath, dbPath, log: () => {} });
    let client = createHistoryClient({ socketPath });
    await client.write.writeConversation({
      conversation: { sourceId: "pi", externalId: "keep", createdAtMs: 1n },
      messages: [{ idx: 0, role: "user", content: "persisted words" }],
    });
    client.close();
    await service.stop();

    service = await startHstryService({ socketPath, dbPath, log: () => {} });
    client = createHistoryClient({ socketPath });
    const { messages } = await client.read.getMessages({ sourceId: "pi", externalId: "keep" });
    expect(messages.map((m) => m.content)).toEqual(["persisted words"]);
    expect((await client.search.search({ query: "persisted" })).hits).toHaveLength(1);
    client.close();
    await service.stop();
  });
});

describe("SQLite", () => {
  let hstry: EmbeddedHstry;
  let db: Database;
  beforeAll(async () => {
    hstry = await startEmbeddedHstry();
    db = new Database(hstry.dbPath, { readonly: true });
  });
  afterAll(async () => {
    db.close();
    await hstry.close();
  });

  test("runs in WAL mode with the schema of HSTRY.md §6.1", () => {
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    const names = db
      .query<{ name: string }, []>(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') ORDER BY name",
      )
      .all()
      .map((r) => r.name);
    for (const name of [
      "sources",
      "conversations",
      "messages",
      "messages_fts",
      "messages_code_fts",
      "tags",
      "conversation_tags",
      "attachments",
      "message_events",
      "messages_fts_insert",
      "messages_fts_update",
      "messages_fts_delete",
    ]) {
      expect(names).toContain(name);
    }
  });

  test("both FTS indexes follow inserts, overwrites and deletes", async () => {
    const key = { sourceId: "pi", externalId: "fts" };
    const ftsRows = (table: string, word: string) =>
      (
        db.query(`SELECT count(*) AS n FROM ${table} WHERE ${table} MATCH ?`).get(`"${word}"`) as {
          n: number;
        }
      ).n;
    await hstry.client.write.writeConversation({
      conversation: { ...key, createdAtMs: 1n },
      messages: [{ idx: 0, role: "user", content: "original_word here" }],
    });
    expect(ftsRows("messages_fts", "original")).toBe(1);
    expect(ftsRows("messages_code_fts", "original_word")).toBe(1);
    await hstry.client.write.appendMessages({
      ...key,
      messages: [{ idx: 0, role: "user", content: "replaced_word" }],
    });
    expect(ftsRows("messages_fts", "original")).toBe(0);
    expect(ftsRows("messages_code_fts", "original_word")).toBe(0);
    expect(ftsRows("messages_code_fts", "replaced_word")).toBe(1);
    await hstry.client.write.deleteConversation(key);
    expect(ftsRows("messages_fts", "replaced")).toBe(0);
    expect(ftsRows("messages_code_fts", "replaced_word")).toBe(0);
    expect((db.query("SELECT count(*) AS n FROM messages").get() as { n: number }).n).toBe(0);
  });

  test("a tail read walks the unique index backwards (no scan, no sort)", () => {
    const plan = db
      .query<{ detail: string }, [string, number]>(
        "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE conversation_id = ? ORDER BY idx DESC LIMIT ?",
      )
      .all("x", 10)
      .map((r) => r.detail)
      .join("\n");
    expect(plan).toContain("USING INDEX");
    expect(plan).not.toContain("TEMP B-TREE");
  });

  test("message events are read after a position, oldest first", async () => {
    const { conversationId } = await hstry.client.write.writeConversation({
      conversation: { sourceId: "pi", externalId: "events", createdAtMs: 1n },
    });
    const writer = new Database(hstry.dbPath);
    const insert = writer.query(
      "INSERT INTO message_events (id, conversation_id, idx, payload_json, created_at, metadata) VALUES (?, ?, ?, ?, ?, '{}')",
    );
    for (let idx = 1; idx <= 4; idx++)
      insert.run(crypto.randomUUID(), conversationId, idx, `{"n":${idx}}`, 100 * idx);
    writer.close();
    const all = await hstry.client.read.getMessageEvents({ conversationId });
    expect(all.events.map((e) => e.idx)).toEqual([1, 2, 3, 4]);
    const afterTwo = await hstry.client.read.getMessageEvents({ conversationId, afterIdx: 2, limit: 1n });
    expect(afterTwo.events.map((e) => [e.idx, e.payloadJson, e.createdAtMs])).toEqual([[3, '{"n":3}', 300n]]);
    const afterTime = await hstry.client.read.getMessageEvents({ conversationId, afterCreatedAtMs: 300n });
    expect(afterTime.events.map((e) => e.idx)).toEqual([4]);
    await expectCode(
      hstry.client.read.getMessageEvents({ conversationId, afterIdx: -1 }),
      Code.InvalidArgument,
    );
  });
});

describe("request validation (embedded)", () => {
  let hstry: EmbeddedHstry;
  beforeAll(async () => {
    hstry = await startEmbeddedHstry();
    await hstry.client.write.writeConversation({
      conversation: { sourceId: "pi", externalId: "v", createdAtMs: 1n },
    });
  });
  afterAll(() => hstry.close());

  const conversation = { sourceId: "pi", externalId: "v2", createdAtMs: 1n };

  test.each([
    ["metadata_json that is not JSON", { conversation: { ...conversation, metadataJson: "{nope" } }],
    ["metadata_json that is not an object", { conversation: { ...conversation, metadataJson: "[1]" } }],
    ["an unknown fork_type", { conversation: { ...conversation, forkType: "spoon" } }],
    [
      "a parent_conversation_id that is not a UUID",
      { conversation: { ...conversation, parentConversationId: "p" } },
    ],
    ["a negative parent_message_idx", { conversation: { ...conversation, parentMessageIdx: -1 } }],
    ["a negative created_at_ms", { conversation: { ...conversation, createdAtMs: -5n } }],
    ["a negative cost", { conversation: { ...conversation, costUsd: -1 } }],
    ["a message with a negative idx", { conversation, messages: [{ idx: -1, role: "user" }] }],
    ["a message without a role", { conversation, messages: [{ idx: 0, role: " " }] }],
    [
      "parts_json that is not an array of parts",
      { conversation, messages: [{ idx: 0, role: "user", partsJson: '{"type":"text"}' }] },
    ],
    [
      "parts_json with an untyped part",
      { conversation, messages: [{ idx: 0, role: "user", partsJson: '[{"text":"x"}]' }] },
    ],
    [
      "sender_json that is not an object",
      { conversation, messages: [{ idx: 0, role: "user", senderJson: '"bob"' }] },
    ],
    ["a NaN cost on a message", { conversation, messages: [{ idx: 0, role: "user", costUsd: Number.NaN }] }],
  ])("WriteConversation with %s is INVALID_ARGUMENT and writes nothing", async (_label, request) => {
    const error = await expectCode(hstry.client.write.writeConversation(request), Code.InvalidArgument);
    expect(error.rawMessage.length).toBeGreaterThan(0);
    const stored = await hstry.client.read.getConversation({ sourceId: "pi", externalId: "v2" });
    expect(stored.conversation).toBeUndefined();
  });

  test("a bad row in an append leaves the earlier rows of the same request unwritten", async () => {
    await expectCode(
      hstry.client.write.appendMessages({
        sourceId: "pi",
        externalId: "v",
        messages: [
          { idx: 0, role: "user", content: "fine" },
          { idx: 1, role: "user", metadataJson: "not json" },
        ],
      }),
      Code.InvalidArgument,
    );
    expect((await hstry.client.read.getMessages({ sourceId: "pi", externalId: "v" })).messages).toEqual([]);
  });

  test("UpdateConversation validates what it sets", async () => {
    await expectCode(
      hstry.client.write.updateConversation({ sourceId: "pi", externalId: "v", metadataJson: "[]" }),
      Code.InvalidArgument,
    );
    await expectCode(
      hstry.client.write.updateConversation({ sourceId: "pi", externalId: "v", forkType: "x" }),
      Code.InvalidArgument,
    );
  });

  test("lookups need a usable key; a malformed conversation_id is INVALID_ARGUMENT", async () => {
    await expectCode(hstry.client.read.getConversation({}), Code.InvalidArgument);
    await expectCode(hstry.client.read.getMessages({ sourceId: "pi" }), Code.InvalidArgument);
    await expectCode(hstry.client.read.getMessages({ conversationId: "123" }), Code.InvalidArgument);
  });

  test("attachments need a mime type", async () => {
    await expectCode(
      hstry.client.write.uploadAttachment({
        messageId: crypto.randomUUID(),
        mimeType: "",
        data: new Uint8Array(),
      }),
      Code.InvalidArgument,
    );
  });

  test("tags must not be blank", async () => {
    await expectCode(
      hstry.client.write.addTag({ conversationId: crypto.randomUUID(), tag: " " }),
      Code.InvalidArgument,
    );
  });
});

describe("wire", () => {
  let hstry: EmbeddedHstry;
  beforeAll(async () => {
    hstry = await startEmbeddedHstry();
  });
  afterAll(() => hstry.close());

  /** Sends a raw gRPC frame; returns the grpc-status (trailer or trailers-only header), else `http <status>`. */
  async function rawCall(path: string, payload: Uint8Array): Promise<string | undefined> {
    const session = http2Connect("http://localhost", {
      createConnection: () => netConnect(hstry.socketPath),
    });
    try {
      const frame = Buffer.alloc(5 + payload.length);
      frame.writeUInt32BE(payload.length, 1);
      frame.set(payload, 5);
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status: string | undefined;
      stream.on("response", (headers) => {
        status =
          headers["grpc-status"] !== undefined
            ? String(headers["grpc-status"])
            : `http ${headers[":status"]}`;
      });
      stream.on("trailers", (trailers) => {
        status = String(trailers["grpc-status"]);
      });
      stream.on("data", () => {});
      stream.end(frame);
      await new Promise((resolve) => stream.on("close", resolve));
      return status;
    } finally {
      session.close();
    }
  }

  test("a payload that is not protobuf is INVALID_ARGUMENT, not INTERNAL", async () => {
    expect(await rawCall("/hstry.service.ReadService/GetMessages", new Uint8Array([0xff, 0xff, 0xff]))).toBe(
      String(Code.InvalidArgument),
    );
    expect(
      await rawCall("/hstry.service.WriteService/WriteConversation", new Uint8Array([0x0a, 0x50, 0x01])),
    ).toBe(String(Code.InvalidArgument));
  });

  test("an empty but valid payload reaches the handler's own checks", async () => {
    expect(await rawCall("/hstry.service.WriteService/WriteConversation", new Uint8Array())).toBe(
      String(Code.InvalidArgument),
    );
  });

  test("an unknown method is HTTP 404, which gRPC clients report as UNIMPLEMENTED", async () => {
    expect(await rawCall("/hstry.service.ReadService/Nope", new Uint8Array())).toBe("http 404");
  });
});
