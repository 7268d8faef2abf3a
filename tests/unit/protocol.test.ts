import { describe, expect, test } from "bun:test";
import {
  AgentEvent,
  Command,
  encodeEventLine,
  peekEventLine,
  runnerLineToMuxFrame,
} from "../../src/protocol/index.ts";

describe("event lines", () => {
  const line = encodeEventLine(
    { session_id: "oqto-1", seq: 42, runner_id: "local", ts: 1700000000000, event: "stream.text_delta" },
    { message_id: "oqto-1#1", delta: 'he said "hi"\n', content_index: 0 },
  );

  test("have the envelope keys first, in fixed order", () => {
    expect(
      line.startsWith(
        '{"type":"event","session_id":"oqto-1","seq":42,"runner_id":"local","ts":1700000000000,"event":"stream.text_delta",',
      ),
    ).toBe(true);
    expect(JSON.parse(line).delta).toBe('he said "hi"\n');
  });

  test("can be peeked without parsing", () => {
    expect(peekEventLine(line)).toEqual({ sessionId: "oqto-1", seq: 42, event: "stream.text_delta" });
    expect(peekEventLine('{"type":"response","id":"x"}')).toBeNull();
  });

  test("become mux frames by a prefix swap that parses as a valid canonical event", () => {
    const frame = JSON.parse(runnerLineToMuxFrame(line));
    expect(frame.channel).toBe("agent");
    expect(frame.type).toBeUndefined();
    const { channel: _c, ...event } = frame;
    expect(AgentEvent.safeParse(event).success).toBe(true);
  });

  test("with an empty payload stay valid JSON", () => {
    const idle = encodeEventLine(
      { session_id: "s", seq: 1, runner_id: "local", ts: 1, event: "agent.idle" },
      {},
    );
    expect(JSON.parse(idle).event).toBe("agent.idle");
  });
});

describe("commands", () => {
  test("reject unknown fields, unknown cmds, blank messages and bad session ids", () => {
    expect(Command.safeParse({ session_id: "s", cmd: "abort" }).success).toBe(true);
    expect(Command.safeParse({ session_id: "s", cmd: "abort", extra: 1 }).success).toBe(false);
    expect(Command.safeParse({ session_id: "s", cmd: "nope" }).success).toBe(false);
    expect(Command.safeParse({ session_id: "s", cmd: "prompt", message: "   " }).success).toBe(false);
    expect(Command.safeParse({ session_id: "a/b", cmd: "abort" }).success).toBe(false);
    expect(Command.safeParse({ session_id: "x".repeat(129), cmd: "abort" }).success).toBe(false);
  });

  test("session.create requires the pi harness and a cwd", () => {
    const ok = Command.safeParse({
      session_id: "s",
      cmd: "session.create",
      config: { harness: "pi", cwd: "/w" },
    });
    expect(ok.success).toBe(true);
    const bad = Command.safeParse({
      session_id: "s",
      cmd: "session.create",
      config: { harness: "other", cwd: "/w" },
    });
    expect(bad.success).toBe(false);
  });
});
