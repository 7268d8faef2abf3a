/**
 * The lean front end (src/runner/harness/pi/lean-rpc.ts) against pi's own RPC mode, both real pi
 * answering the same scripted turn: the translator makes the same canonical events of both, the
 * lean lines per delta stay the same size however long the answer grows, and a message cut off
 * mid-stream keeps exactly the text its deltas brought; a warm spare warms its provider code without
 * asking the LLM.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EventName, EventPayload } from "../../src/protocol/events.ts";
import { PiEvent } from "../../src/runner/harness/pi/pi-schemas.ts";
import { PiTranslator } from "../../src/runner/harness/pi/translator.ts";
import type { FakeStep } from "../fixtures/fake-llm.ts";
import { RunnerEnv } from "../fixtures/runner-env.ts";
import { piWires, RawPi, type RawTurn } from "../helpers/pi-raw-turn.ts";

let env: RunnerEnv;
beforeAll(async () => {
  env = await RunnerEnv.start();
});
afterAll(async () => {
  await env.stop();
});

const TEXT = Array.from({ length: 300 }, (_, i) => `wörd ${i} 🦀\n`);
const TURN: FakeStep[] = [
  {
    reasoning: ["think ", "about ", "it"],
    text: ["let me look. "],
    toolCalls: [{ id: "call_1", name: "ls", arguments: { path: "." } }],
  },
  { text: TEXT },
];

async function runTurn(lean: boolean): Promise<RawTurn> {
  const wires = piWires(env, `s-${lean}`);
  const pi = new RawPi(lean ? wires.lean : wires.full, wires.env, env.workspace);
  try {
    await pi.ready();
    env.llm.script(TURN);
    return await pi.turn("go");
  } finally {
    await pi.close();
  }
}

type Emitted = { event: EventName } & Record<string, unknown>;

/** The canonical events of pi's lines; `cutAfter` interrupts the open message after that many text deltas. */
function translate(lines: string[], cutAfter?: number): Emitted[] {
  const emitted: Emitted[] = [];
  const translator = new PiTranslator("sid", 0, {
    emit: <E extends EventName>(event: E, payload: EventPayload<E>) => emitted.push({ event, ...payload }),
    agentStarted: () => undefined,
    agentEnded: () => undefined,
    autoRetryStarted: () => undefined,
    compactionEnded: () => undefined,
    titleChanged: () => undefined,
    inputRequested: () => undefined,
    log: () => undefined,
  });
  let textDeltas = 0;
  for (const line of lines) {
    const raw = JSON.parse(line) as { type: string };
    if (raw.type === "response") continue;
    translator.handle(PiEvent.parse(raw));
    if (raw.type === "message_update" && emitted.at(-1)?.event === "stream.text_delta") textDeltas += 1;
    if (cutAfter !== undefined && textDeltas === cutAfter) {
      translator.interruptOpenMessage();
      break;
    }
  }
  return emitted;
}

/** What must not differ between the two wires: everything but wall-clock times and the fake's response counter. */
function comparable(events: Emitted[]): unknown[] {
  return JSON.parse(JSON.stringify(events), (key, value) =>
    ["ts", "timestamp", "duration_ms", "durationMs", "created_at", "response_id"].includes(key)
      ? undefined
      : value,
  );
}

const deltaLineSizes = (turn: RawTurn) =>
  turn.lines.filter((l) => l.includes('"text_delta"')).map((l) => Buffer.byteLength(l));

describe("lean pi RPC front end", () => {
  let full: RawTurn;
  let lean: RawTurn;
  beforeAll(async () => {
    full = await runTurn(false);
    lean = await runTurn(true);
  }, 60_000);

  test("the translator makes the same canonical events of both wires", () => {
    const fromFull = translate(full.lines);
    const fromLean = translate(lean.lines);
    expect(fromLean.filter((e) => e.event === "stream.text_delta").length).toBeGreaterThanOrEqual(
      TEXT.length,
    );
    expect(fromLean.some((e) => e.event === "stream.tool_call_start" && e.tool_call_id === "call_1")).toBe(
      true,
    );
    expect(fromLean.some((e) => e.event === "stream.thinking_delta")).toBe(true);
    expect(comparable(fromLean)).toEqual(comparable(fromFull));
  });

  test("a lean delta line stays the same size while pi's own grows with the answer", () => {
    const leanSizes = deltaLineSizes(lean);
    const fullSizes = deltaLineSizes(full);
    expect(Math.max(...leanSizes)).toBeLessThan(200);
    expect(fullSizes.at(-1) as number).toBeGreaterThan(2 * TEXT.join("").length);
    expect(lean.bytes * 20).toBeLessThan(full.bytes);
  });

  test("a message cut off mid-stream keeps exactly the text its deltas brought, on both wires", () => {
    for (const turn of [full, lean]) {
      const events = translate(turn.lines, 100);
      const streamed = events
        .filter((e) => e.event === "stream.text_delta")
        .slice(1) // the first answer's "let me look. " belongs to the finished first message
        .map((e) => e.delta)
        .join("");
      const cut = events.at(-1) as Emitted & { message: { parts: Array<{ type: string; text?: string }> } };
      expect(cut.event).toBe("stream.message_end");
      const text = cut.message.parts
        .filter((p) => p.type === "text")
        .map((p) => p.text)
        .join("");
      expect(text).toBe(streamed);
      expect(text).toBe(TEXT.slice(0, 99).join(""));
    }
  });
});

/** The text a turn streamed, as the translator makes it of pi's lines. */
const streamedText = (turn: RawTurn) =>
  translate(turn.lines)
    .filter((e) => e.event === "stream.text_delta")
    .map((e) => e.delta)
    .join("");

describe("warming pi's provider code", () => {
  test("a process started for its session warms in the background: no request to the LLM, its first answer exact", async () => {
    const wires = piWires(env, "s-direct");
    const before = env.llm.exchanges().length;
    const pi = new RawPi(wires.lean, wires.env, env.workspace);
    try {
      await pi.ready();
      await Bun.sleep(1000);
      expect(env.llm.exchanges().length).toBe(before);
      env.llm.script([{ text: ["first ", "answer"] }]);
      expect(streamedText(await pi.turn("go"))).toBe("first answer");
      expect(env.llm.exchanges().length).toBe(before + 1);
    } finally {
      await pi.close();
    }
  }, 60_000);

  test("a warm spare (OQTO_POOLED=1) warms before it says ready, without a request to the LLM", async () => {
    const wires = piWires(env, "s-pooled");
    const before = env.llm.exchanges().length;
    const pi = new RawPi(wires.lean, { ...wires.env, OQTO_POOLED: "1" }, env.workspace);
    try {
      const ready = await pi.poolReady();
      // RunnerEnv's models.json names one provider, on OpenAI Chat Completions.
      expect(ready.warmed).toEqual(["openai-completions"]);
      expect(env.llm.exchanges().length).toBe(before);

      // Bound and prompted, it answers from the real provider (fetch is its own again), once.
      pi.bind("s-pooled");
      await pi.ready();
      env.llm.script([{ text: ["after ", "the ", "warm-up"] }]);
      expect(streamedText(await pi.turn("go"))).toBe("after the warm-up");
      expect(env.llm.exchanges().length).toBe(before + 1);
    } finally {
      await pi.close();
    }
  }, 60_000);
});
