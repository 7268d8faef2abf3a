/**
 * The gateway's delta merger on scripted provider streams: with merging off the bytes pass unchanged;
 * with it on, every stream's text, reasoning and tool arguments stay exactly as sent, key by key, every
 * other record passes byte for byte and in order, pieces go out at once after a quiet window and are
 * held within one, and streams it cannot read safely (CR line ends, huge records) pass as they come.
 */
import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { anthropicMessagesDeltas } from "../../../src/server/llm-gateway/delta-merge/anthropic-messages-deltas.ts";
import {
  DeltaMerger,
  MAX_HELD_RECORD_BYTES,
} from "../../../src/server/llm-gateway/delta-merge/delta-merger.ts";
import type { DeltaRule } from "../../../src/server/llm-gateway/delta-merge/delta-rule.ts";
import {
  DeltaMergeLoad,
  deltaMergeSettings,
} from "../../../src/server/llm-gateway/delta-merge/merge-load.ts";
import { openAiCompletionsDeltas } from "../../../src/server/llm-gateway/delta-merge/openai-completions-deltas.ts";

const encoder = new TextEncoder();
const data = (json: unknown) => `data: ${JSON.stringify(json)}\n\n`;
const event = (json: { type: string }) => `event: ${json.type}\ndata: ${JSON.stringify(json)}\n\n`;

const ID = "chatcmpl-1";
const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  data({
    id: ID,
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, finish_reason: null, ...extra }],
  });

/** An OpenAI stream: role chunk, reasoning, text with multi-byte characters, a tool call, the ends. */
function openAiStream(): string[] {
  const records = [chunk({ role: "assistant", content: "" })];
  for (let i = 0; i < 20; i++) records.push(chunk({ reasoning_content: `think ${i}; ` }));
  for (let i = 0; i < 50; i++) records.push(chunk({ content: `wörd ${i} ✓ ` }));
  records.push(
    chunk({
      tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "read", arguments: "" } }],
    }),
  );
  const args = JSON.stringify({ path: "a/ü.txt", limit: 10 });
  for (let i = 0; i < args.length; i += 3)
    records.push(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 3) } }] }));
  records.push(chunk({}, { finish_reason: "tool_calls" }));
  records.push(data({ id: ID, object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 5 } }));
  records.push("data: [DONE]\n\n");
  return records;
}

/** An Anthropic stream: thinking with its signature, text, a tool's input JSON, the message events. */
function anthropicStream(): string[] {
  const records = [
    event({ type: "message_start", message: { id: "msg_1", usage: { input_tokens: 3 } } } as {
      type: string;
    }),
    event({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } } as {
      type: string;
    }),
  ];
  for (let i = 0; i < 15; i++)
    records.push(
      event({
        type: "content_block_delta",
        index: 0,
        delta: { type: "thinking_delta", thinking: `t${i} ` },
      } as { type: string }),
    );
  records.push(
    event({ type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } } as {
      type: string;
    }),
  );
  records.push(event({ type: "content_block_stop", index: 0 } as { type: string }));
  records.push(event({ type: "ping" }));
  for (let i = 0; i < 30; i++)
    records.push(
      event({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: `é${i}` } } as {
        type: string;
      }),
    );
  for (const part of ['{"pa', 'th": "x', '.md"}'])
    records.push(
      event({
        type: "content_block_delta",
        index: 2,
        delta: { type: "input_json_delta", partial_json: part },
      } as { type: string }),
    );
  records.push(event({ type: "message_stop" }));
  return records;
}

interface Parsed {
  /** Appended text per key, in order. */
  pieces: Map<string, string>;
  /** Every record that is not a piece, as its exact text, in order. */
  others: string[];
  records: number;
}

/** Reads an SSE text back into records the way the rule sees them. */
function parse(rule: DeltaRule, text: string): Parsed {
  const pieces = new Map<string, string>();
  const others: string[] = [];
  const records = text.split("\n\n").slice(0, -1);
  for (const record of records) {
    const lines = record.split("\n");
    const eventLine = lines.find((l) => l.startsWith("event: "));
    const dataLine = lines.find((l) => l.startsWith("data: "));
    let piece: ReturnType<DeltaRule["piece"]>;
    try {
      piece = dataLine ? rule.piece(eventLine?.slice(7), JSON.parse(dataLine.slice(6))) : undefined;
    } catch {
      piece = undefined;
    }
    if (piece) pieces.set(piece.key, (pieces.get(piece.key) ?? "") + piece.text);
    else others.push(`${record}\n\n`);
  }
  return { pieces, others, records: records.length };
}

/** Feeds `bytes` in chunks of `size` at the given times (ms), returning everything sent, joined. */
function run(
  rule: DeltaRule,
  bytes: Uint8Array,
  {
    size = bytes.length,
    windowMs = 40,
    at = () => 0,
  }: { size?: number; windowMs?: number; at?: (i: number) => number } = {},
): Buffer {
  const merger = new DeltaMerger(rule);
  const out: Buffer[] = [];
  let i = 0;
  let now = 0;
  for (let offset = 0; offset < bytes.length; offset += size, i++) {
    now = at(i);
    out.push(...merger.take(bytes.subarray(offset, offset + size), now, windowMs));
  }
  out.push(...merger.end(now));
  return Buffer.concat(out);
}

const cases: Array<{ name: string; rule: DeltaRule; records: () => string[]; keys: number }> = [
  { name: "openai-completions", rule: openAiCompletionsDeltas, records: openAiStream, keys: 3 },
  { name: "anthropic-messages", rule: anthropicMessagesDeltas, records: anthropicStream, keys: 3 },
];

for (const c of cases) {
  describe(`${c.name} deltas`, () => {
    const text = c.records().join("");
    const bytes = encoder.encode(text);
    const sent = parse(c.rule, text);

    test("merging off (window 0): the bytes pass unchanged, whatever the chunking", () => {
      for (const size of [1, 7, 64, bytes.length]) {
        expect(run(c.rule, bytes, { size, windowMs: 0 }).equals(Buffer.from(bytes))).toBe(true);
      }
    });

    test("merging on: text per key exact, other records byte for byte and in order, far fewer records", () => {
      expect(sent.pieces.size).toBe(c.keys);
      for (const size of [1, 5, 13, 200, bytes.length]) {
        const got = parse(c.rule, run(c.rule, bytes, { size }).toString("utf8"));
        expect(got.pieces).toEqual(sent.pieces);
        expect(got.others).toEqual(sent.others);
        // All at one instant: the stream's first piece goes alone, then one record per key.
        expect(got.records).toBe(sent.others.length + 1 + c.keys);
      }
    });

    test("a piece goes out at once after a quiet window; within one it waits at most the window", () => {
      const WINDOW = 40;
      const STEP = 10;
      const records = c.records();
      const merger = new DeltaMerger(c.rule);
      const emitted: Array<{ at: number; text: string }> = [];
      const sendAt = (at: number, out: Buffer[]) => {
        for (const b of out) emitted.push({ at, text: b.toString() });
      };
      // One record every STEP ms; held pieces are flushed when due, as merged-body's timer does.
      records.forEach((record, i) => {
        const now = i * STEP;
        const due = merger.dueAt(WINDOW);
        if (due !== undefined && due <= now) sendAt(due, merger.flush(due));
        sendAt(now, merger.take(encoder.encode(record), now, WINDOW));
      });
      const last = records.length * STEP;
      const due = merger.dueAt(WINDOW);
      if (due !== undefined) sendAt(Math.min(due, last), merger.flush(Math.min(due, last)));
      sendAt(last, merger.end(last));

      const got = parse(c.rule, emitted.map((e) => e.text).join(""));
      expect(got.pieces).toEqual(sent.pieces);
      expect(got.others).toEqual(sent.others);
      expect(got.records).toBeLessThan(sent.records);
      // How long each piece the provider sent waited: until an emission brought its key's text past it.
      const reach = new Map<string, number>();
      const reachAt = emitted.map((e) => {
        for (const [key, text] of parse(c.rule, e.text).pieces)
          reach.set(key, (reach.get(key) ?? 0) + text.length);
        return { at: e.at, reach: new Map(reach) };
      });
      const upTo = new Map<string, number>();
      const holds = records.flatMap((record, i) =>
        [...parse(c.rule, record).pieces].map(([key, text]) => {
          const need = (upTo.get(key) ?? 0) + text.length;
          upTo.set(key, need);
          const when = reachAt.find((r) => (r.reach.get(key) ?? 0) >= need);
          if (!when) throw new Error(`piece ${i} was never sent`);
          return when.at - i * STEP;
        }),
      );
      expect(holds.length).toBeGreaterThan(40);
      expect(Math.max(...holds)).toBeLessThanOrEqual(WINDOW);
      // The stream's first piece went out the moment it came.
      const firstPiece = records.findIndex((r) => parse(c.rule, r).pieces.size > 0);
      const firstSent = emitted.find((e) => parse(c.rule, e.text).pieces.size > 0);
      expect(firstSent?.at).toBe(firstPiece * STEP);
    });
  });
}

describe("streams the merger does not read", () => {
  test("CR line ends pass unchanged (held bytes and pending pieces first)", () => {
    const head = openAiStream().slice(0, 10).join("");
    const tail = openAiStream().slice(10).join("").replaceAll("\n", "\r\n");
    const bytes = encoder.encode(head + tail);
    const got = run(openAiCompletionsDeltas, bytes, { size: 50 }).toString("utf8");
    // The LF part may be merged; from the first CR on, every byte is the provider's.
    expect(got.endsWith(tail)).toBe(true);
    expect(parse(openAiCompletionsDeltas, got.slice(0, got.length - tail.length)).pieces).toEqual(
      parse(openAiCompletionsDeltas, head).pieces,
    );
  });

  test("a record over the hold limit turns the rest into a pass-through", () => {
    const huge = chunk({ content: "x".repeat(MAX_HELD_RECORD_BYTES + 10_000) });
    const records = [
      chunk({ content: "a" }),
      chunk({ content: "b" }),
      huge,
      chunk({ content: "c" }),
      chunk({ content: "d" }),
    ];
    const text = records.join("");
    const got = run(openAiCompletionsDeltas, encoder.encode(text), { size: 4096 }).toString("utf8");
    expect(parse(openAiCompletionsDeltas, got).pieces).toEqual(parse(openAiCompletionsDeltas, text).pieces);
    expect(got.endsWith(huge + records[3] + records[4])).toBe(true);
  });
});

describe("what is never a piece", () => {
  const notPieces: Array<[string, unknown, string | undefined]> = [
    ["the role chunk", JSON.parse(chunk({ role: "assistant", content: "" }).slice(6)), undefined],
    ["a finish reason", JSON.parse(chunk({ content: "x" }, { finish_reason: "stop" }).slice(6)), undefined],
    ["logprobs", JSON.parse(chunk({ content: "x" }, { logprobs: { content: [] } }).slice(6)), undefined],
    [
      "usage",
      { id: ID, choices: [{ index: 0, delta: { content: "x" } }], usage: { prompt_tokens: 1 } },
      undefined,
    ],
    [
      "two choices",
      {
        id: ID,
        choices: [
          { index: 0, delta: { content: "x" } },
          { index: 1, delta: { content: "y" } },
        ],
      },
      undefined,
    ],
    [
      "content and reasoning together",
      JSON.parse(chunk({ content: "x", reasoning_content: "y" }).slice(6)),
      undefined,
    ],
    ["a refusal", JSON.parse(chunk({ refusal: "no" }).slice(6)), undefined],
    [
      "a tool call's first chunk",
      JSON.parse(
        chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "n", arguments: "" } }] }).slice(6),
      ),
      undefined,
    ],
    ["an OpenAI chunk under an event name", JSON.parse(chunk({ content: "x" }).slice(6)), "message"],
  ];
  for (const [name, json, eventName] of notPieces) {
    test(`openai-completions: ${name}`, () => {
      expect(openAiCompletionsDeltas.piece(eventName, json)).toBeUndefined();
    });
  }
  test("anthropic-messages: a signature, a block start, extra fields", () => {
    const rule = anthropicMessagesDeltas;
    expect(
      rule.piece("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "signature_delta", signature: "s" },
      }),
    ).toBeUndefined();
    expect(
      rule.piece("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }),
    ).toBeUndefined();
    expect(
      rule.piece("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "x", citations: [] },
      }),
    ).toBeUndefined();
    expect(
      rule.piece("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "x" },
      })?.text,
    ).toBe("x");
  });
  test("a record with an id line or a comment passes byte for byte", () => {
    const records = [
      chunk({ content: "a" }),
      `id: 7\n${chunk({ content: "b" })}`,
      `: keep-alive\n${chunk({ content: "c" })}`,
      chunk({ content: "d" }),
      chunk({ content: "e" }),
    ];
    const got = run(openAiCompletionsDeltas, encoder.encode(records.join(""))).toString("utf8");
    expect(got).toContain(records[1] as string);
    expect(got).toContain(records[2] as string);
    expect(got.startsWith(records[0] as string)).toBe(true);
    expect(got.endsWith(chunk({ content: "de" }))).toBe(true);
  });
});

describe("when merging is on", () => {
  test("[llm_gateway]: defaults from the cores, explicit values, unknown keys and bad values refused", () => {
    expect(deltaMergeSettings(ConfigSchema.parse({}), 2)).toEqual({ windowMs: 40, aboveStreams: 2 });
    expect(
      deltaMergeSettings(
        ConfigSchema.parse({ llm_gateway: { merge_window_ms: 0, merge_above_streams: 5 } }),
        2,
      ),
    ).toEqual({ windowMs: 0, aboveStreams: 5 });
    expect(ConfigSchema.safeParse({ llm_gateway: { merge_window: 40 } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ llm_gateway: { merge_window_ms: -1 } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ llm_gateway: { merge_window_ms: 2.5 } }).success).toBe(false);
  });

  test("the window is in force only while more streams run than the threshold; an end counts once", () => {
    const load = new DeltaMergeLoad({ windowMs: 40, aboveStreams: 2 });
    const ends = [load.begin(), load.begin()];
    expect(load.windowMs()).toBe(0);
    const third = load.begin();
    expect(load.windowMs()).toBe(40);
    third();
    third();
    expect(load.windowMs()).toBe(0);
    ends[0]?.();
    expect(load.begin() && load.windowMs()).toBe(0);
    expect(load.begin() && load.windowMs()).toBe(40);
  });
});
