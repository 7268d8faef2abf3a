/**
 * The merge the relay does for a socket that fell behind (PROTOCOL.md §2.4, "Coalescing"): frames
 * made by the real runner encoder, merged by the real queue.
 */
import { describe, expect, test } from "bun:test";
import {
  AgentEvent,
  type EventName,
  type EventPayload,
  encodeEventLine,
  runnerLineToMuxFrame,
} from "../../src/protocol/index.ts";
import { coalesceFrames, DeltaCoalescer } from "../../src/server/mux/delta-coalescer.ts";
import type { MuxClient } from "../../ui/src/lib/mux-client.ts";
import { parseIncomingFrame } from "../../ui/src/lib/mux-frames.ts";
import { ChatStream } from "../../ui/src/state/chat/chat-stream.ts";

const seqs = new Map<string, number>();

function frame<E extends EventName>(sessionId: string, event: E, payload: EventPayload<E>): string {
  const seq = (seqs.get(sessionId) ?? 0) + 1;
  seqs.set(sessionId, seq);
  const line = encodeEventLine(
    { session_id: sessionId, seq, runner_id: "local", ts: 1000 + seq, event },
    payload,
  );
  return runnerLineToMuxFrame(line);
}

const text = (sid: string, delta: string, message_id = "m1", content_index = 0) =>
  frame(sid, "stream.text_delta", { message_id, delta, content_index });

type Parsed = Record<string, unknown> & { seq: number; seq_from?: number; event: string; delta?: string };
const parse = (frames: string[]) => frames.map((f) => JSON.parse(f) as Parsed);

describe("coalesceFrames", () => {
  test("consecutive deltas of one block become one frame: concatenated text, last seq, seq_from the first", () => {
    const pieces = ["Grüße, ", "wörld ", "🌍🚀", "\n", "naïve ", "日本語", '"quoted"\\', "\u2028end"];
    const input = pieces.map((p) => text("s-a", p));
    const out = parse(coalesceFrames(input));
    expect(out).toHaveLength(1);
    const [merged] = out as [Parsed];
    expect(merged.delta).toBe(pieces.join(""));
    expect(merged.seq_from).toBe((JSON.parse(input[0] as string) as Parsed).seq);
    expect(merged.seq).toBe((JSON.parse(input.at(-1) as string) as Parsed).seq);
    expect(merged.ts).toBe((JSON.parse(input.at(-1) as string) as Parsed).ts);
    // The canonical schema accepts it (the UI parses events with it) and keeps seq_from.
    const event = AgentEvent.parse(merged) as Parsed;
    expect(event.seq_from).toBe(merged.seq_from as number);
    expect(event.delta).toBe(pieces.join(""));
  });

  test("a lone delta and every non-delta frame pass through byte for byte", () => {
    const input = [
      frame("s-b", "stream.message_start", { message_id: "m1", role: "assistant", idx: 0 }),
      text("s-b", "only one"),
      frame("s-b", "stream.done", { reason: "stop" }),
    ];
    expect(coalesceFrames(input)).toEqual(input);
  });

  test("a non-delta event, another block, another message or another kind ends a run; order never changes", () => {
    const sid = "s-c";
    const input = [
      text(sid, "a"),
      text(sid, "b"),
      frame(sid, "agent.working", { phase: "generating" }),
      text(sid, "c"),
      text(sid, "d", "m1", 1),
      text(sid, "e", "m1", 1),
      frame(sid, "stream.thinking_delta", { message_id: "m1", delta: "t1", content_index: 1 }),
      frame(sid, "stream.thinking_delta", { message_id: "m1", delta: "t2", content_index: 1 }),
      text(sid, "f", "m2", 1),
      frame(sid, "stream.tool_call_delta", {
        message_id: "m2",
        tool_call_id: "c1",
        delta: '{"a":',
        content_index: 2,
      }),
      frame(sid, "stream.tool_call_delta", {
        message_id: "m2",
        tool_call_id: "c1",
        delta: "1}",
        content_index: 2,
      }),
      frame(sid, "stream.tool_call_delta", {
        message_id: "m2",
        tool_call_id: "c2",
        delta: "{}",
        content_index: 2,
      }),
    ];
    const out = parse(coalesceFrames(input));
    expect(out.map((f) => [f.event, f.delta ?? null, f.seq_from ?? f.seq, f.seq])).toEqual([
      ["stream.text_delta", "ab", 1, 2],
      ["agent.working", null, 3, 3],
      ["stream.text_delta", "c", 4, 4],
      ["stream.text_delta", "de", 5, 6],
      ["stream.thinking_delta", "t1t2", 7, 8],
      ["stream.text_delta", "f", 9, 9],
      ["stream.tool_call_delta", '{"a":1}', 10, 11],
      ["stream.tool_call_delta", "{}", 12, 12],
    ]);
    expect(out[6]?.tool_call_id).toBe("c1");
  });

  test("sessions interleave: each session's run continues across the other's events, never across a non-event frame", () => {
    const input = [
      text("s-d", "1"),
      text("s-e", "x"),
      text("s-d", "2"),
      frame("s-e", "agent.idle", {}),
      text("s-d", "3"),
      JSON.stringify({ channel: "system", type: "ping", ts: 1 }),
      text("s-d", "4"),
      text("s-e", "y"),
      text("s-e", "z"),
    ];
    const out = parse(coalesceFrames(input));
    expect(out.map((f) => [f.session_id ?? f.type, f.event ?? null, f.delta ?? null])).toEqual([
      ["s-d", "stream.text_delta", "123"],
      ["s-e", "stream.text_delta", "x"],
      ["s-e", "agent.idle", null],
      ["ping", null, null],
      ["s-d", "stream.text_delta", "4"],
      ["s-e", "stream.text_delta", "yz"],
    ]);
    // Per session the seq ranges tile the stream with no gap and no overlap.
    for (const sid of ["s-d", "s-e"]) {
      const ranges = out
        .filter((f) => f.session_id === sid)
        .map((f) => [f.seq_from ?? f.seq, f.seq] as const);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.[0]).toBe((ranges[i - 1]?.[1] as number) + 1);
    }
  });

  test("a frame the schema does not know exactly (an extra field) is never merged", () => {
    const a = text("s-f", "a");
    const odd = `${text("s-f", "b").slice(0, -1)},"extra":true}`;
    const c = text("s-f", "c");
    expect(coalesceFrames([a, odd, c])).toEqual([a, odd, c]);
  });
});

describe("DeltaCoalescer", () => {
  test("a run already sent is closed: later deltas start a new frame", () => {
    const queue = new DeltaCoalescer();
    const [a, b, c] = [text("s-g", "a"), text("s-g", "b"), text("s-g", "c")];
    for (const f of [a, b]) {
      const head = JSON.parse(f) as Parsed;
      queue.pushEvent("s-g", head.seq, head.event, f);
    }
    expect(queue.size).toBe(1);
    expect((JSON.parse(queue.shift() as string) as Parsed).delta).toBe("ab");
    const head = JSON.parse(c) as Parsed;
    queue.pushEvent("s-g", head.seq, head.event, c);
    expect(queue.shift()).toBe(c);
    expect(queue.size).toBe(0);
    expect(queue.chars).toBe(0);
  });

  test("an overflow drops the queued events, counted per session, and keeps every other frame", () => {
    const queue = new DeltaCoalescer();
    for (const f of [text("s-h", "a"), text("s-h", "b"), frame("s-h", "agent.idle", {}), text("s-i", "c")]) {
      const head = JSON.parse(f) as Parsed & { session_id: string };
      queue.pushEvent(head.session_id, head.seq, head.event, f);
    }
    const response = JSON.stringify({ channel: "agent", event: "response", session_id: "s-h", seq: 3 });
    queue.pushFrame(response);
    expect(Object.fromEntries(queue.dropEvents())).toEqual({ "s-h": 3, "s-i": 1 });
    expect(queue.size).toBe(1);
    expect(queue.chars).toBe(response.length);
    expect(queue.shift()).toBe(response);
  });
});

describe("the UI's stream", () => {
  test("parses a coalesced frame, keeps seq_from, applies it once and asks for no resync", () => {
    const sid = "s-ui";
    const frames = coalesceFrames([
      frame(sid, "stream.message_start", { message_id: "m1", role: "assistant", idx: 0 }),
      text(sid, "héllo "),
      text(sid, "wörld 🌍"),
      text(sid, "\n!"),
      frame(sid, "stream.done", { reason: "stop" }),
    ]);
    const applied: AgentEvent[] = [];
    let commands = 0;
    const client = {
      command: () => {
        commands += 1;
        return Promise.reject(new Error("no commands expected"));
      },
    } as unknown as MuxClient;
    const stream = new ChatStream(client, sid, "/tmp", {
      state: () => "streaming",
      reset: () => {},
      apply: (event) => applied.push(event),
      failed: () => {},
    });
    for (const raw of frames) {
      const parsed = parseIncomingFrame(raw);
      if (parsed.kind !== "event") throw new Error(`not an event: ${raw}`);
      stream.receive(parsed.event);
      stream.receive(parsed.event); // seen twice, applied once
    }
    expect(commands).toBe(0);
    expect(applied.map((e) => [e.event, e.seq_from ?? e.seq, e.seq])).toEqual([
      ["stream.message_start", 1, 1],
      ["stream.text_delta", 2, 4],
      ["stream.done", 5, 5],
    ]);
    expect((applied[1] as AgentEvent & { delta: string }).delta).toBe("héllo wörld 🌍\n!");
  });
});
