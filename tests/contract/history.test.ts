/**
 * The history contract (HSTRY.md §4): one suite over real gRPC, run against the embedded `oqto hstry`
 * service on a unix socket, and against an external hstry when HSTRY_TEST_SOCKET names its socket
 * (or an http://127.0.0.1:PORT URL). Every case works in its own source id, so a shared external DB
 * is neither disturbed nor able to disturb the results; the external run deletes what it wrote.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { type MessageSchema, SearchMode } from "../../src/gen/hstry_service_pb.ts";
import { createHistoryClient, type HistoryClient } from "../../src/history/client.ts";
import { type EmbeddedHstry, expectCode, startEmbeddedHstry } from "../history/helpers.ts";

interface Implementation {
  name: string;
  start(): Promise<{ client: HistoryClient; close(): Promise<void> }>;
}

const implementations: Implementation[] = [
  {
    name: "embedded oqto hstry",
    async start() {
      const embedded: EmbeddedHstry = await startEmbeddedHstry();
      return { client: embedded.client, close: () => embedded.close() };
    },
  },
];
const external = process.env.HSTRY_TEST_SOCKET;
if (external) {
  implementations.push({
    name: `external hstry at ${external}`,
    async start() {
      const client = createHistoryClient(
        external.startsWith("http") ? { url: external } : { socketPath: external },
      );
      return { client, close: async () => client.close() };
    },
  });
}

type Row = MessageInitShape<typeof MessageSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function row(idx: number, role: string, content: string, extra: Partial<Row> = {}): Row {
  return {
    idx,
    role,
    content,
    partsJson: JSON.stringify([{ type: "text", id: `p${idx}`, text: content }]),
    createdAtMs: BigInt(1_700_000_000_000 + idx * 1000),
    metadataJson: "{}",
    senderJson: "",
    ...extra,
  };
}

for (const implementation of implementations) {
  describe(`history contract: ${implementation.name}`, () => {
    let client: HistoryClient;
    let close: () => Promise<void>;
    const written: Array<{ sourceId: string; externalId: string }> = [];
    const runId = crypto.randomUUID().slice(0, 8);
    let sourceCounter = 0;
    /** A source id no other case (or earlier run against the same external DB) uses. */
    const freshSource = () => `contract-${runId}-${++sourceCounter}`;

    async function write(
      sourceId: string,
      externalId: string,
      messages: Row[] = [],
      conversation: Record<string, unknown> = {},
    ) {
      written.push({ sourceId, externalId });
      return client.write.writeConversation({
        conversation: {
          sourceId,
          externalId,
          createdAtMs: 1_700_000_000_000n,
          metadataJson: "{}",
          ...conversation,
        },
        messages,
      });
    }

    async function conversationOf(sourceId: string, externalId: string) {
      return (await client.read.getConversation({ sourceId, externalId })).conversation;
    }

    beforeAll(async () => {
      ({ client, close } = await implementation.start());
    });

    afterAll(async () => {
      for (const key of written) {
        await client.write.deleteConversation(key).catch(() => {});
      }
      await close();
    });

    describe("WriteConversation", () => {
      test("creates a conversation and reports id, rows written, version and count", async () => {
        const source = freshSource();
        const response = await write(source, "a", [row(0, "user", "hi"), row(1, "assistant", "hello")], {
          title: "First",
          workspace: "/w/one",
          model: "m1",
          provider: "p1",
          platformId: "oqto-1",
          harness: "pi",
        });
        expect(response.conversationId).toMatch(UUID);
        expect(response.messagesWritten).toBe(2);
        expect(response.version).toBeGreaterThanOrEqual(1n);
        expect(response.messageCount).toBe(2);

        const stored = await conversationOf(source, "a");
        expect(stored).toMatchObject({
          sourceId: source,
          externalId: "a",
          title: "First",
          workspace: "/w/one",
          model: "m1",
          provider: "p1",
          platformId: "oqto-1",
          harness: "pi",
          createdAtMs: 1_700_000_000_000n,
          messageCount: 2,
          version: response.version,
        });
      });

      test("upserts on (source_id, external_id); readable_id and platform_id only change to non-empty values", async () => {
        const source = freshSource();
        const first = await write(source, "u", [], {
          title: "Old",
          readableId: "brave-fox",
          platformId: "s-1",
        });
        const second = await write(source, "u", [], { title: "New", readableId: "", platformId: "" });
        expect(second.conversationId).toBe(first.conversationId);
        expect(second.version).toBeGreaterThan(first.version);
        let stored = await conversationOf(source, "u");
        expect(stored?.title).toBe("New");
        expect(stored?.readableId).toBe("brave-fox");
        expect(stored?.platformId).toBe("s-1");

        await write(source, "u", [], { title: "New", readableId: "calm-owl", platformId: "s-2" });
        stored = await conversationOf(source, "u");
        expect(stored?.readableId).toBe("calm-owl");
        expect(stored?.platformId).toBe("s-2");
      });

      test("fork lineage is stored", async () => {
        const source = freshSource();
        const parent = await write(source, "parent", [row(0, "user", "q"), row(1, "assistant", "a")]);
        await write(source, "child", [row(0, "user", "q")], {
          parentConversationId: parent.conversationId,
          parentMessageIdx: 1,
          forkType: "fork",
        });
        expect(await conversationOf(source, "child")).toMatchObject({
          parentConversationId: parent.conversationId,
          parentMessageIdx: 1,
          forkType: "fork",
        });
      });

      test("missing conversation is INVALID_ARGUMENT", async () => {
        await expectCode(
          client.write.writeConversation({ messages: [row(0, "user", "x")] }),
          Code.InvalidArgument,
        );
      });

      test("empty source_id or external_id is INVALID_ARGUMENT", async () => {
        await expectCode(
          client.write.writeConversation({ conversation: { sourceId: "", externalId: "x" } }),
          Code.InvalidArgument,
        );
        await expectCode(
          client.write.writeConversation({ conversation: { sourceId: freshSource(), externalId: "" } }),
          Code.InvalidArgument,
        );
      });
    });

    describe("positional upserts", () => {
      test("a repeated idx overwrites the row; rows not named are kept", async () => {
        const source = freshSource();
        await write(source, "p", [
          row(0, "user", "one"),
          row(1, "assistant", "two"),
          row(2, "user", "three"),
        ]);
        const response = await client.write.appendMessages({
          sourceId: source,
          externalId: "p",
          messages: [
            row(1, "tool", "two rewritten", { model: "m2", metadataJson: '{"k":1}' }),
            row(3, "user", "four"),
          ],
        });
        expect(response.messagesWritten).toBe(2);
        expect(response.messageCount).toBe(4);
        const { messages } = await client.read.getMessages({ sourceId: source, externalId: "p" });
        expect(messages.map((m) => [m.idx, m.role, m.content])).toEqual([
          [0, "user", "one"],
          [1, "tool", "two rewritten"],
          [2, "user", "three"],
          [3, "user", "four"],
        ]);
        expect(messages[1]?.model).toBe("m2");
        expect(JSON.parse(messages[1]?.metadataJson ?? "")).toEqual({ k: 1 });
        expect(JSON.parse(messages[1]?.partsJson ?? "")).toEqual([
          { type: "text", id: "p1", text: "two rewritten" },
        ]);
      });

      test("retrying the same append is idempotent: same rows, same count, version still moves forward", async () => {
        const source = freshSource();
        await write(source, "r", [row(0, "user", "q")]);
        const batch = [row(1, "assistant", "a"), row(2, "user", "q2")];
        const first = await client.write.appendMessages({
          sourceId: source,
          externalId: "r",
          messages: batch,
        });
        const before = await client.read.getMessages({ sourceId: source, externalId: "r" });
        const retry = await client.write.appendMessages({
          sourceId: source,
          externalId: "r",
          messages: batch,
        });
        const after = await client.read.getMessages({ sourceId: source, externalId: "r" });
        expect(retry.messageCount).toBe(first.messageCount);
        expect(retry.messageCount).toBe(3);
        expect(retry.version).toBeGreaterThan(first.version);
        expect(after.messages).toEqual(before.messages);
      });

      test("WriteConversation upserts its messages positionally too", async () => {
        const source = freshSource();
        await write(source, "w", [row(0, "user", "a"), row(1, "assistant", "b")]);
        const again = await write(source, "w", [row(1, "assistant", "b2")]);
        expect(again.messageCount).toBe(2);
        const { messages } = await client.read.getMessages({ sourceId: source, externalId: "w" });
        expect(messages.map((m) => m.content)).toEqual(["a", "b2"]);
      });
    });

    describe("AppendMessages", () => {
      test("NOT_FOUND for a conversation that does not exist; the WriteConversation fallback then stores the rows", async () => {
        const source = freshSource();
        const rows = [row(0, "user", "lost?"), row(1, "assistant", "no")];
        await expectCode(
          client.write.appendMessages({ sourceId: source, externalId: "missing", messages: rows }),
          Code.NotFound,
        );
        const fallback = await write(source, "missing", rows);
        expect(fallback.messageCount).toBe(2);
        const { messages } = await client.read.getMessages({ sourceId: source, externalId: "missing" });
        expect(messages.map((m) => m.content)).toEqual(["lost?", "no"]);
      });

      test("returns version and message_count after the write, as GetConversation then reports them", async () => {
        const source = freshSource();
        await write(source, "v", [row(0, "user", "q")]);
        const response = await client.write.appendMessages({
          sourceId: source,
          externalId: "v",
          messages: [row(1, "assistant", "a")],
          updatedAtMs: 1_800_000_000_000n,
        });
        const stored = await conversationOf(source, "v");
        expect(stored?.version).toBe(response.version);
        expect(stored?.messageCount).toBe(response.messageCount);
        expect(stored?.updatedAtMs).toBe(1_800_000_000_000n);
      });

      test("empty source_id / external_id is INVALID_ARGUMENT", async () => {
        await expectCode(
          client.write.appendMessages({ sourceId: "", externalId: "x", messages: [] }),
          Code.InvalidArgument,
        );
        await expectCode(
          client.write.appendMessages({ sourceId: freshSource(), externalId: "", messages: [] }),
          Code.InvalidArgument,
        );
      });
    });

    describe("version counter", () => {
      test("is monotonic and moves with every mutation", async () => {
        const source = freshSource();
        const versions: bigint[] = [];
        const created = await write(source, "c", [row(0, "user", "q")]);
        versions.push(created.version);
        versions.push(
          (
            await client.write.appendMessages({
              sourceId: source,
              externalId: "c",
              messages: [row(1, "assistant", "a")],
            })
          ).version,
        );
        await client.write.updateConversation({ sourceId: source, externalId: "c", title: "T" });
        versions.push((await conversationOf(source, "c"))?.version ?? 0n);
        await client.write.addTag({ conversationId: created.conversationId, tag: `tag-${runId}` });
        versions.push((await conversationOf(source, "c"))?.version ?? 0n);
        versions.push((await write(source, "c", [row(2, "user", "q2")])).version);
        for (let i = 1; i < versions.length; i++) {
          expect(versions[i] as bigint).toBeGreaterThan(versions[i - 1] as bigint);
        }
      });
    });

    describe("UpdateConversation", () => {
      test("changes only the fields that are set", async () => {
        const source = freshSource();
        const created = await write(source, "t", [], {
          title: "Keep me?",
          workspace: "/w/a",
          model: "m1",
          provider: "p1",
          platformId: "s-9",
        });
        const response = await client.write.updateConversation({
          sourceId: source,
          externalId: "t",
          title: "Renamed",
        });
        expect(response.conversationId).toBe(created.conversationId);
        expect(await conversationOf(source, "t")).toMatchObject({
          title: "Renamed",
          workspace: "/w/a",
          model: "m1",
          provider: "p1",
          platformId: "s-9",
        });
        await client.write.updateConversation({
          sourceId: source,
          externalId: "t",
          model: "m2",
          provider: "p2",
          workspace: "/w/b",
          metadataJson: '{"oqto_user_id":"u1"}',
        });
        const stored = await conversationOf(source, "t");
        expect(stored).toMatchObject({ title: "Renamed", model: "m2", provider: "p2", workspace: "/w/b" });
        expect(JSON.parse(stored?.metadataJson ?? "")).toEqual({ oqto_user_id: "u1" });
      });

      test("NOT_FOUND for a conversation that does not exist", async () => {
        await expectCode(
          client.write.updateConversation({ sourceId: freshSource(), externalId: "ghost", title: "x" }),
          Code.NotFound,
        );
      });
    });

    describe("DeleteConversation", () => {
      test("removes the conversation and its messages", async () => {
        const source = freshSource();
        const created = await write(source, "d", [row(0, "user", "delete me zebra")]);
        const response = await client.write.deleteConversation({ sourceId: source, externalId: "d" });
        expect(response.conversationId).toBe(created.conversationId);
        expect(await conversationOf(source, "d")).toBeUndefined();
        const messages = await client.read.getMessages({ conversationId: created.conversationId });
        expect(messages.messages).toEqual([]);
        const hits = await client.search.search({ query: "zebra", source });
        expect(hits.hits).toEqual([]);
      });

      test("NOT_FOUND for a conversation that does not exist", async () => {
        await expectCode(
          client.write.deleteConversation({ sourceId: freshSource(), externalId: "ghost" }),
          Code.NotFound,
        );
      });
    });

    describe("lookup", () => {
      test("resolves by source_id+external_id, conversation_id, readable_id and workspace", async () => {
        const source = freshSource();
        const workspace = `/w/lookup-${runId}`;
        const older = await write(source, "old", [row(0, "user", "older")], {
          workspace,
          readableId: `older-${runId}`,
          updatedAtMs: 1_700_000_100_000n,
        });
        const newer = await write(source, "new", [row(0, "user", "newer")], {
          workspace,
          readableId: `newer-${runId}`,
          updatedAtMs: 1_700_000_200_000n,
        });
        expect(
          (await client.read.getConversation({ sourceId: source, externalId: "old" })).conversation
            ?.externalId,
        ).toBe("old");
        expect(
          (await client.read.getConversation({ conversationId: older.conversationId })).conversation
            ?.externalId,
        ).toBe("old");
        expect(
          (await client.read.getConversation({ readableId: `older-${runId}` })).conversation?.externalId,
        ).toBe("old");
        // workspace alone: the most recently updated conversation there
        expect((await client.read.getConversation({ workspace })).conversation?.externalId).toBe("new");
        const byId = await client.read.getMessages({ conversationId: newer.conversationId });
        expect(byId.conversationId).toBe(newer.conversationId);
        expect(byId.messages.map((m) => m.content)).toEqual(["newer"]);
      });

      test("conversation_id takes precedence over source_id+external_id", async () => {
        const source = freshSource();
        const a = await write(source, "pa", [row(0, "user", "from a")]);
        await write(source, "pb", [row(0, "user", "from b")]);
        const response = await client.read.getMessages({
          conversationId: a.conversationId,
          sourceId: source,
          externalId: "pb",
        });
        expect(response.messages.map((m) => m.content)).toEqual(["from a"]);
      });

      test("no match: GetConversation has no conversation, GetMessages an empty list", async () => {
        const source = freshSource();
        const conversation = await client.read.getConversation({ sourceId: source, externalId: "nobody" });
        expect(conversation.conversation).toBeUndefined();
        const messages = await client.read.getMessages({ sourceId: source, externalId: "nobody" });
        expect(messages.messages).toEqual([]);
        const events = await client.read.getMessageEvents({ sourceId: source, externalId: "nobody" });
        expect(events.events).toEqual([]);
      });
    });

    describe("GetMessages", () => {
      test("limit N returns the last N in ascending idx; 0 returns all", async () => {
        const source = freshSource();
        const rows = Array.from({ length: 25 }, (_, i) =>
          row(i, i % 2 === 0 ? "user" : "assistant", `m${i}`),
        );
        await write(source, "tail", rows);
        const tail = await client.read.getMessages({ sourceId: source, externalId: "tail", limit: 5n });
        expect(tail.messages.map((m) => m.idx)).toEqual([20, 21, 22, 23, 24]);
        const all = await client.read.getMessages({ sourceId: source, externalId: "tail", limit: 0n });
        expect(all.messages.map((m) => m.idx)).toEqual(Array.from({ length: 25 }, (_, i) => i));
        const more = await client.read.getMessages({ sourceId: source, externalId: "tail", limit: 100n });
        expect(more.messages).toHaveLength(25);
      });

      test("rows read back carry every written field and a server-set id", async () => {
        const source = freshSource();
        const sender = JSON.stringify({ type: "user", id: "u1", name: "Ada" });
        await write(source, "fields", [
          row(0, "assistant", "answer", {
            model: "gpt-x",
            provider: "prov",
            tokens: 42n,
            costUsd: 0.25,
            metadataJson: '{"stop_reason":"stop"}',
            senderJson: sender,
            harness: "pi",
            clientId: "c-1",
          }),
        ]);
        const [stored] = (await client.read.getMessages({ sourceId: source, externalId: "fields" })).messages;
        expect(stored).toMatchObject({
          idx: 0,
          role: "assistant",
          content: "answer",
          createdAtMs: 1_700_000_000_000n,
          model: "gpt-x",
          provider: "prov",
          tokens: 42n,
          costUsd: 0.25,
          senderJson: sender,
          harness: "pi",
          clientId: "c-1",
        });
        expect(JSON.parse(stored?.metadataJson ?? "")).toEqual({ stop_reason: "stop" });
        expect(stored?.id).toMatch(UUID);
      });

      test("negative limit is INVALID_ARGUMENT", async () => {
        const source = freshSource();
        await write(source, "neg");
        await expectCode(
          client.read.getMessages({ sourceId: source, externalId: "neg", limit: -1n }),
          Code.InvalidArgument,
        );
      });
    });

    describe("ListConversations", () => {
      test("filters by source and workspace, newest first, with message_count and first_user_message", async () => {
        const source = freshSource();
        await write(
          source,
          "l1",
          [row(0, "system", "sys"), row(1, "user", "first question"), row(2, "user", "later")],
          {
            workspace: "/w/x",
            updatedAtMs: 1_700_000_001_000n,
          },
        );
        await write(source, "l2", [row(0, "user", "other")], {
          workspace: "/w/y",
          updatedAtMs: 1_700_000_003_000n,
        });
        await write(source, "l3", [], { workspace: "/w/x", updatedAtMs: 1_700_000_002_000n });

        const all = await client.read.listConversations({ sourceId: source });
        expect(all.conversations.map((c) => c.conversation?.externalId)).toEqual(["l2", "l3", "l1"]);
        const inX = await client.read.listConversations({ sourceId: source, workspace: "/w/x" });
        expect(inX.conversations.map((c) => c.conversation?.externalId)).toEqual(["l3", "l1"]);
        const l1 = inX.conversations[1];
        expect(l1?.messageCount).toBe(3n);
        expect(l1?.firstUserMessage).toBe("first question");
        expect(inX.conversations[0]?.firstUserMessage).toBe("");
      });

      test("limit and offset page through the list", async () => {
        const source = freshSource();
        for (let i = 0; i < 5; i++) {
          await write(source, `page-${i}`, [], { updatedAtMs: BigInt(1_700_000_000_000 + i) });
        }
        const pages: string[][] = [];
        for (let offset = 0n; offset < 6n; offset += 2n) {
          const page = await client.read.listConversations({ sourceId: source, limit: 2n, offset });
          pages.push(page.conversations.map((c) => c.conversation?.externalId ?? ""));
        }
        expect(pages).toEqual([["page-4", "page-3"], ["page-2", "page-1"], ["page-0"]]);
      });

      test("negative limit or offset is INVALID_ARGUMENT", async () => {
        await expectCode(client.read.listConversations({ limit: -1n }), Code.InvalidArgument);
        await expectCode(client.read.listConversations({ offset: -5n }), Code.InvalidArgument);
      });
    });

    describe("Search", () => {
      let source: string;
      let conversationA: string;

      beforeAll(async () => {
        source = freshSource();
        conversationA = (
          await write(
            source,
            "sa",
            [
              row(0, "user", "The runner keeps running while the tests run"),
              row(1, "assistant", "Edit src/history/service/server.ts and call startHstryService there"),
              row(2, "tool", "alpha only here"),
              row(3, "user", "beta only here"),
              row(4, "assistant", "zebra zebra zebra zebra"),
            ],
            { workspace: "/w/search-a", title: "Search A" },
          )
        ).conversationId;
        await write(source, "sb", [row(0, "user", "one zebra in another workspace")], {
          workspace: "/w/search-b",
          title: "Search B",
        });
      });

      test("natural mode stems words and returns hit details", async () => {
        const { hits } = await client.search.search({ query: "runs", source, mode: SearchMode.NATURAL });
        expect(hits).toHaveLength(1);
        expect(hits[0]).toMatchObject({
          conversationId: conversationA,
          messageIdx: 0,
          role: "user",
          content: "The runner keeps running while the tests run",
          sourceId: source,
          externalId: "sa",
          title: "Search A",
          workspace: "/w/search-a",
          createdAtMs: 1_700_000_000_000n,
        });
        expect(hits[0]?.messageId).toMatch(UUID);
        expect(hits[0]?.snippet).toContain("run");
      });

      test("code mode keeps paths and identifiers whole; auto picks it for code-looking queries", async () => {
        const code = await client.search.search({
          query: "src/history/service/server.ts",
          source,
          mode: SearchMode.CODE,
        });
        expect(code.hits.map((h) => h.messageIdx)).toEqual([1]);
        const auto = await client.search.search({ query: "startHstryService", source });
        expect(auto.hits.map((h) => h.messageIdx)).toEqual([1]);
        // the path as one code token does not match a message that only shares its words
        const partial = await client.search.search({
          query: "src/history/other.ts",
          source,
          mode: SearchMode.CODE,
        });
        expect(partial.hits).toEqual([]);
      });

      test("all terms must match; results are ranked by score, best first", async () => {
        const { hits } = await client.search.search({ query: "zebra", source });
        expect(hits.map((h) => h.externalId)).toEqual(["sa", "sb"]);
        expect(hits[0]?.score ?? 0).toBeGreaterThan(hits[1]?.score ?? 0);
        const both = await client.search.search({ query: "zebra workspace", source });
        expect(both.hits.map((h) => h.externalId)).toEqual(["sb"]);
      });

      test("filters: workspace, role, time range, limit and offset", async () => {
        const inB = await client.search.search({ query: "zebra", source, workspace: "/w/search-b" });
        expect(inB.hits.map((h) => h.externalId)).toEqual(["sb"]);
        const users = await client.search.search({ query: "only here", source, role: "user" });
        expect(users.hits.map((h) => h.messageIdx)).toEqual([3]);
        const late = await client.search.search({
          query: "only here",
          source,
          afterMs: 1_700_000_002_500n,
          beforeMs: 1_700_000_003_500n,
        });
        expect(late.hits.map((h) => h.messageIdx)).toEqual([3]);
        const first = await client.search.search({ query: "zebra", source, limit: 1n });
        const second = await client.search.search({ query: "zebra", source, limit: 1n, offset: 1n });
        expect([...first.hits, ...second.hits].map((h) => h.externalId)).toEqual(["sa", "sb"]);
      });

      test("FTS syntax in user text is matched literally, never interpreted", async () => {
        // OR is a word, not an operator: nothing contains "alpha", "or" and "beta" together
        expect((await client.search.search({ query: "alpha OR beta", source })).hits).toEqual([]);
        // * is not a prefix operator
        expect((await client.search.search({ query: "zeb*", source })).hits).toEqual([]);
        // NEAR( is not a group; the words must all occur
        expect((await client.search.search({ query: "NEAR(alpha beta)", source })).hits).toEqual([]);
        // a column filter is not one
        expect((await client.search.search({ query: "content:zebra", source })).hits).toEqual([]);
        for (const query of [
          '"',
          '"zebra',
          "zebra)",
          "(zebra",
          "((",
          "*",
          "^zebra",
          "zebra AND",
          "NOT zebra",
          "-zebra",
          "'",
          "\\",
        ]) {
          const response = await client.search.search({ query, source });
          for (const hit of response.hits) expect(hit.content.toLowerCase()).toContain("zebra");
        }
        const quoted = await client.search.search({ query: '"zebra"', source, mode: SearchMode.NATURAL });
        expect(quoted.hits.map((h) => h.externalId)).toEqual(["sa", "sb"]);
      });

      test("tag filter", async () => {
        const tag = `t-${runId}`;
        await client.write.addTag({ conversationId: conversationA, tag });
        const tagged = await client.search.search({ query: "zebra", source, tag });
        expect(tagged.hits.map((h) => h.externalId)).toEqual(["sa"]);
        await client.write.removeTag({ conversationId: conversationA, tag });
        expect((await client.search.search({ query: "zebra", source, tag })).hits).toEqual([]);
      });

      test("blank query, negative limit and an unknown mode are INVALID_ARGUMENT", async () => {
        await expectCode(client.search.search({ query: "   ", source }), Code.InvalidArgument);
        await expectCode(client.search.search({ query: "zebra", limit: -1n }), Code.InvalidArgument);
        await expectCode(
          client.search.search({ query: "zebra", mode: 7 as SearchMode }),
          Code.InvalidArgument,
        );
      });
    });

    describe("tags", () => {
      test("add and remove report whether anything changed", async () => {
        const source = freshSource();
        const { conversationId } = await write(source, "tags");
        const tag = `keep-${runId}`;
        expect((await client.write.addTag({ conversationId, tag })).added).toBe(true);
        expect((await client.write.addTag({ conversationId, tag })).added).toBe(false);
        expect((await client.write.removeTag({ conversationId, tag })).removed).toBe(true);
        expect((await client.write.removeTag({ conversationId, tag })).removed).toBe(false);
      });

      test("bad UUIDs are INVALID_ARGUMENT; an unknown conversation is NOT_FOUND", async () => {
        await expectCode(
          client.write.addTag({ conversationId: "not-a-uuid", tag: "x" }),
          Code.InvalidArgument,
        );
        await expectCode(client.write.removeTag({ conversationId: "", tag: "x" }), Code.InvalidArgument);
        await expectCode(
          client.write.addTag({ conversationId: crypto.randomUUID(), tag: "x" }),
          Code.NotFound,
        );
      });
    });

    describe("attachments", () => {
      test("uploads to a message by its id", async () => {
        const source = freshSource();
        await write(source, "att", [row(0, "user", "see picture")]);
        const [message] = (await client.read.getMessages({ sourceId: source, externalId: "att" })).messages;
        const response = await client.write.uploadAttachment({
          messageId: message?.id ?? "",
          mimeType: "image/png",
          filename: "p.png",
          data: new Uint8Array([137, 80, 78, 71]),
        });
        expect(response.attachmentId).not.toBe("");
      });

      test("bad UUIDs are INVALID_ARGUMENT; an unknown message is NOT_FOUND", async () => {
        await expectCode(
          client.write.uploadAttachment({
            messageId: "nope",
            mimeType: "text/plain",
            data: new Uint8Array([1]),
          }),
          Code.InvalidArgument,
        );
        await expectCode(
          client.write.uploadAttachment({
            messageId: crypto.randomUUID(),
            mimeType: "text/plain",
            data: new Uint8Array([1]),
          }),
          Code.NotFound,
        );
      });
    });

    describe("wire limits", () => {
      test("a message larger than gRPC's usual 4 MiB default round-trips", async () => {
        const source = freshSource();
        const big = "x".repeat(20 * 1024 * 1024);
        await write(source, "big", [row(0, "tool", big)]);
        const [stored] = (await client.read.getMessages({ sourceId: source, externalId: "big" })).messages;
        expect(stored?.content.length).toBe(big.length);
      }, 30_000);
    });
  });
}
