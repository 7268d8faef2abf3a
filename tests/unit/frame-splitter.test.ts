import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { encodeBinaryFrameHead, FrameSplitter } from "../../src/shared/frame-splitter.ts";

const LIMITS = { maxLineBytes: 1024, maxHeaderBytes: 64, maxPayloadBytes: 64 * 1024 };

/** Lines and binary frames as the splitter reports them: frames with their pieces joined. */
function collect() {
  const out: Array<{ line: string } | { header: string; payload: Buffer }> = [];
  const violations: string[] = [];
  const splitter = new FrameSplitter(
    (line) => out.push({ line }),
    (header, piece) => {
      const last = out.at(-1);
      // Consecutive pieces of one frame (the frames of this test have distinct headers).
      if (last && "header" in last && last.header === header) {
        last.payload = Buffer.concat([last.payload, piece]);
      } else {
        out.push({ header, payload: Buffer.from(piece) });
      }
    },
    LIMITS,
    (reason) => violations.push(reason),
  );
  return { out, violations, splitter };
}

const frame = (header: string, payload: Uint8Array) =>
  Buffer.concat([encodeBinaryFrameHead(header, payload.length), payload]);

describe("FrameSplitter", () => {
  const payloadA = randomBytes(5000);
  // A payload full of LFs and zero bytes: only the lengths delimit it.
  const payloadB = Buffer.alloc(3000, "\n\0");
  const wire = Buffer.concat([
    Buffer.from('{"type":"response","id":"1"}\n'),
    frame('{"stream_id":"a"}', payloadA),
    frame('{"stream_id":"b"}', payloadB),
    Buffer.from('{"type":"heartbeat"}\n'),
    frame('{"stream_id":"c"}', new Uint8Array(0)),
    Buffer.from('{"type":"event"}\n'),
  ]);
  const expected = [
    { line: '{"type":"response","id":"1"}' },
    { header: '{"stream_id":"a"}', payload: payloadA },
    { header: '{"stream_id":"b"}', payload: payloadB },
    { line: '{"type":"heartbeat"}' },
    { header: '{"stream_id":"c"}', payload: Buffer.alloc(0) },
    { line: '{"type":"event"}' },
  ];

  test("lines and frames come out whole and in order, however the bytes are cut", () => {
    for (const cut of [wire.length, 1, 2, 7, 9, 10, 64, 1000, 4097]) {
      const { out, violations, splitter } = collect();
      for (let at = 0; at < wire.length; at += cut) splitter.push(wire.subarray(at, at + cut));
      expect(violations).toEqual([]);
      expect(out).toEqual(expected);
    }
  });

  test("runs of lines between frames, and a raw zero byte inside a line, split the same however cut", () => {
    const lines = ['{"seq":1}', '{"seq":2}', '{"bad":"a\0b"}', '{"seq":3}'];
    const run = Buffer.from(lines.map((line) => `${line}\n`).join(""));
    const tail = Buffer.from('{"seq":4}\r\n{"seq":5}\n');
    const mixed = Buffer.concat([run, frame('{"stream_id":"d"}', payloadB), tail]);
    const want = [
      ...lines.map((line) => ({ line })),
      { header: '{"stream_id":"d"}', payload: payloadB },
      { line: '{"seq":4}' },
      { line: '{"seq":5}' },
    ];
    expect(lines[2]).toContain("\0");
    for (let cut = 1; cut <= mixed.length; cut++) {
      const { out, violations, splitter } = collect();
      for (let at = 0; at < mixed.length; at += cut) splitter.push(mixed.subarray(at, at + cut));
      expect(violations).toEqual([]);
      expect(out).toEqual(want);
    }
  });

  test("payload pieces are views into the received chunks, not copies", () => {
    const pieces: Uint8Array[] = [];
    const splitter = new FrameSplitter(
      () => {},
      (_header, piece) => pieces.push(piece),
      LIMITS,
      () => {},
    );
    const chunk = frame('{"stream_id":"a"}', payloadA);
    splitter.push(chunk);
    expect(pieces.length).toBe(1);
    expect(pieces[0]?.buffer).toBe(chunk.buffer);
  });

  test("a frame over the limits is a violation and nothing after it is parsed", () => {
    const { out, violations, splitter } = collect();
    splitter.push(
      Buffer.concat([
        frame('{"stream_id":"a"}', Buffer.alloc(LIMITS.maxPayloadBytes + 1)),
        Buffer.from('{"after":true}\n'),
      ]),
    );
    expect(violations.length).toBe(1);
    expect(violations[0]).toContain("exceeds the limits");
    expect(out).toEqual([]);
    const header = collect();
    header.splitter.push(frame("x".repeat(LIMITS.maxHeaderBytes + 1), Buffer.alloc(1)));
    expect(header.violations.length).toBe(1);
  });

  test("an overlong line is a violation too", () => {
    const { violations, splitter } = collect();
    splitter.push(Buffer.from(`${"x".repeat(LIMITS.maxLineBytes + 1)}\n`));
    expect(violations[0]).toContain("exceeds");
  });
});
