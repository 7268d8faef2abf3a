import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { MessageSchema } from "../../src/gen/hstry_service_pb.ts";
import { fromHstryMessage, searchableContent, toHstryMessage } from "../../src/history/message-mapping.ts";
import { ProtocolError } from "../../src/protocol/common.ts";
import type { Message } from "../../src/protocol/message.ts";

const user: Message = {
  id: "s1#0",
  idx: 0,
  role: "user",
  client_id: "c-1",
  sender: { type: "user", id: "u1", name: "Ada" },
  parts: [{ type: "text", id: "s1#0/0", text: "Please read notes.md" }],
  created_at: 1_700_000_000_000,
};

const assistant: Message = {
  id: "s1#1",
  idx: 1,
  role: "assistant",
  parts: [
    { type: "thinking", id: "s1#1/0", text: "The user wants the file." },
    { type: "text", id: "s1#1/1", text: "Reading it now." },
    {
      type: "tool_call",
      id: "s1#1/2",
      toolCallId: "call_1",
      name: "read",
      input: { path: "notes.md" },
      status: "success",
    },
  ],
  created_at: 1_700_000_001_000,
  model: "gpt-test",
  provider: "fake",
  stop_reason: "tool_use",
  usage: { input_tokens: 100, output_tokens: 20, cache_read_tokens: 5, cost_usd: 0.0125 },
  metadata: { response_id: "resp_1", error_message: "partial" },
};

const tool: Message = {
  id: "s1#2",
  idx: 2,
  role: "tool",
  parts: [
    {
      type: "tool_result",
      id: "s1#2/0",
      toolCallId: "call_1",
      name: "read",
      output: "line one\nline two",
      isError: false,
      durationMs: 12,
    },
    { type: "image", id: "s1#2/1", source: "base64", data: "aGk=", mimeType: "image/png" },
  ],
  created_at: 1_700_000_002_000,
  tool_call_id: "call_1",
  tool_name: "read",
  is_error: false,
  metadata: { details: { lines: 2 } },
};

const roundTrip = (message: Message, platformId = "s1") =>
  fromHstryMessage(create(MessageSchema, toHstryMessage(message)), platformId);

describe("canonical -> hstry", () => {
  test("content is the text parts and string tool outputs, one per line", () => {
    expect(searchableContent(assistant.parts)).toBe("Reading it now.");
    expect(searchableContent(tool.parts)).toBe("line one\nline two");
    expect(
      searchableContent([
        { type: "text", id: "a", text: "x" },
        { type: "tool_result", id: "b", toolCallId: "t", output: { structured: true }, isError: false },
        { type: "text", id: "c", text: "y" },
      ]),
    ).toBe("x\ny");
  });

  test("columns follow HSTRY.md §5.2", () => {
    const row = toHstryMessage(assistant);
    expect(row.idx).toBe(1);
    expect(row.role).toBe("assistant");
    expect(row.content).toBe("Reading it now.");
    expect(JSON.parse(row.partsJson ?? "")).toEqual(assistant.parts);
    expect(row.createdAtMs).toBe(1_700_000_001_000n);
    expect(row.model).toBe("gpt-test");
    expect(row.provider).toBe("fake");
    expect(row.tokens).toBe(120n);
    expect(row.costUsd).toBe(0.0125);
    expect(JSON.parse(row.metadataJson ?? "")).toEqual({
      stop_reason: "tool_use",
      usage: assistant.usage,
      response_id: "resp_1",
      error_message: "partial",
    });
    expect(row.senderJson).toBe("");

    const userRow = toHstryMessage(user);
    expect(JSON.parse(userRow.senderJson ?? "")).toEqual(user.sender);
    expect(userRow.clientId).toBe("c-1");
    expect(userRow.tokens).toBeUndefined();
    expect(JSON.parse(userRow.metadataJson ?? "")).toEqual({});

    expect(JSON.parse(toHstryMessage(tool).metadataJson ?? "")).toEqual({
      tool_call_id: "call_1",
      tool_name: "read",
      is_error: false,
      details: { lines: 2 },
    });
  });
});

describe("hstry -> canonical", () => {
  test("user, assistant and tool messages round-trip unchanged", () => {
    for (const message of [user, assistant, tool]) expect(roundTrip(message)).toEqual(message);
  });

  test("the id is rebuilt from the platform id, never hstry's row id", () => {
    const row = create(MessageSchema, { ...toHstryMessage(user), id: crypto.randomUUID() });
    expect(fromHstryMessage(row, "other-session").id).toBe("other-session#0");
  });

  test("absent optional fields stay absent", () => {
    const minimal: Message = { id: "s#3", idx: 3, role: "assistant", parts: [], created_at: 5 };
    const back = roundTrip(minimal, "s");
    expect(back).toEqual(minimal);
    expect(Object.keys(back).sort()).toEqual(["created_at", "id", "idx", "parts", "role"]);
  });

  test.each([
    ["parts_json that is not JSON", { partsJson: "[" }],
    ["a part of an unknown type", { partsJson: '[{"type":"hologram","id":"x"}]' }],
    ["a role Oqto does not know", { role: "robot" }],
    ["a stop_reason Oqto does not know", { metadataJson: '{"stop_reason":"bored"}' }],
    ["sender_json without a name", { senderJson: '{"type":"user","id":"u"}' }],
  ])("%s is a ProtocolError naming the row", (_label, override) => {
    const row = create(MessageSchema, { ...toHstryMessage(user), ...override });
    let caught: unknown;
    try {
      fromHstryMessage(row, "s1");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as ProtocolError).code).toBe("internal");
    expect((caught as ProtocolError).message).toContain("history message 0");
  });
});
