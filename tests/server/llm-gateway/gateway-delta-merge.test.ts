/**
 * Delta merging in the gateway, on real sockets: the stream wrapper flushes held pieces on its timer
 * while the provider is silent and passes cancellation on; and real pi (RPC mode) behind the gateway,
 * with merging on, ends its turn with exactly the reasoning, text and tool call the fake provider sent,
 * in fewer updates, with usage recorded from the provider's own bytes. With fewer streams than the
 * threshold nothing is merged: pi sees every delta as sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildModelsJson } from "../../../src/llm/models-json.ts";
import { LLM_TOKEN_ENV } from "../../../src/protocol/llm.ts";
import type { PiAssistantMessage } from "../../../src/runner/harness/pi/pi-schemas.ts";
import { DeltaMerger } from "../../../src/server/llm-gateway/delta-merge/delta-merger.ts";
import { mergedDeltaBody } from "../../../src/server/llm-gateway/delta-merge/merged-body.ts";
import { openAiCompletionsDeltas } from "../../../src/server/llm-gateway/delta-merge/openai-completions-deltas.ts";
import { FAKE_MODEL, FAKE_PROVIDER, type FakeLlm, startFakeLlm } from "../../fixtures/fake-llm.ts";
import { type GatewayHarness, startGateway } from "./gateway-harness.ts";
import { PiOnFake } from "./pi-on-fake.ts";

const encoder = new TextEncoder();
const piece = (text: string) =>
  `data: ${JSON.stringify({ id: "c1", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;

/** A provider body that sends `records` with the given pause before each (ms), and notes a cancel. */
function pacedBody(records: Array<[pauseMs: number, text: string]>) {
  const state = { cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = records.shift();
      if (!next) {
        controller.close();
        return;
      }
      await Bun.sleep(next[0]);
      controller.enqueue(encoder.encode(next[1]));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state };
}

/** Reads a body to its end, noting when each chunk arrived (ms since the start). */
async function readTimed(body: ReadableStream<Uint8Array>) {
  const started = performance.now();
  const chunks: Array<{ at: number; text: string }> = [];
  const decoder = new TextDecoder();
  for await (const chunk of body)
    chunks.push({ at: performance.now() - started, text: decoder.decode(chunk) });
  return chunks;
}

const contentOf = (text: string) =>
  text
    .split("\n\n")
    .filter((r) => r.startsWith("data: {"))
    .map(
      (r) =>
        (JSON.parse(r.slice(6)) as { choices: Array<{ delta: { content: string } }> }).choices[0]?.delta
          .content,
    )
    .join("");

describe("the merging stream", () => {
  test("pieces 5 ms apart leave in about one record per window, text exact", async () => {
    const texts = Array.from({ length: 60 }, (_, i) => `p${i} `);
    const { body } = pacedBody(texts.map((t) => [5, piece(t)]));
    const chunks = await readTimed(mergedDeltaBody(body, new DeltaMerger(openAiCompletionsDeltas), () => 30));
    expect(contentOf(chunks.map((c) => c.text).join(""))).toBe(texts.join(""));
    // ~300 ms of pieces over a 30 ms window: about 10 records, not 60 (slack for a loaded machine).
    expect(chunks.length).toBeLessThan(25);
    expect(chunks.length).toBeGreaterThan(2);
  });

  test("held pieces leave when the window passes, without waiting for the provider's next record", async () => {
    const { body } = pacedBody([
      [0, piece("a")],
      [0, piece("b")],
      [0, piece("c")],
      [600, piece("d")],
    ]);
    const chunks = await readTimed(mergedDeltaBody(body, new DeltaMerger(openAiCompletionsDeltas), () => 40));
    expect(contentOf(chunks.map((c) => c.text).join(""))).toBe("abcd");
    const bc = chunks.find((c) => contentOf(c.text).includes("bc"));
    expect(bc).toBeDefined();
    // Due at 40 ms; well before the provider's next record at ~600 ms even on a loaded machine.
    expect(bc?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(300);
  });

  test("a client that goes away cancels the provider's body", async () => {
    const { body, state } = pacedBody(Array.from({ length: 100 }, (_, i) => [20, piece(`x${i}`)]));
    const reader = mergedDeltaBody(body, new DeltaMerger(openAiCompletionsDeltas), () => 40).getReader();
    await reader.read();
    await reader.cancel("gone");
    expect(state.cancelled).toBe(true);
  });
});

const REASONING = Array.from({ length: 30 }, (_, i) => `step ${i}, `);
const TEXT = Array.from({ length: 100 }, (_, i) => `wörd ${i} ✓ `);
const TOOL_ARGS = { path: "notes/ünïcode.txt", offset: 1, limit: 40 };

function blocks(message: PiAssistantMessage, type: string): Array<Record<string, unknown>> {
  return message.content.filter((b) => b.type === type) as unknown as Array<Record<string, unknown>>;
}

for (const merging of [true, false]) {
  describe(`real pi through the gateway, merging ${merging ? "on" : "off (fewer streams than the threshold)"}`, () => {
    let fake: FakeLlm;
    let gw: GatewayHarness;
    let pi: PiOnFake;
    let userId: string;
    const sessionId = `oqto-gw-merge-${merging}`;

    beforeAll(async () => {
      fake = await startFakeLlm();
      gw = startGateway(undefined, { windowMs: 40, aboveStreams: merging ? 0 : 1 });
      userId = gw.addUser("alice");
      gw.addProvider({
        name: FAKE_PROVIDER,
        api: "openai-completions",
        base_url: fake.url,
        api_key: "sk-real",
        models: [{ id: FAKE_MODEL, reasoning: true }],
      });
      const token = gw.session(userId, sessionId);
      const modelsJson = buildModelsJson(gw.catalog.providers(), gw.base, LLM_TOKEN_ENV);
      pi = await PiOnFake.start({ ...modelsJson }, FAKE_PROVIDER, FAKE_MODEL, {
        env: { [LLM_TOKEN_ENV]: token },
      });
    }, 60_000);
    afterAll(async () => {
      await pi?.stop();
      await gw?.stop();
      await fake?.stop();
    });

    test("pi's message holds exactly the reasoning, text and tool call sent; usage recorded", async () => {
      fake.script([
        {
          reasoning: REASONING,
          text: TEXT,
          toolCalls: [{ name: "read", arguments: TOOL_ARGS }],
          delayMs: 2,
          usage: { prompt_tokens: 120, completion_tokens: 77 },
        },
        { text: "done" },
      ]);
      const from = pi.events.length;
      const savedBefore = gw.gateway.deltaRecordsSaved;
      const messages = await pi.prompt("Think, say, then read.");
      const first = messages[0] as PiAssistantMessage;
      expect(first.errorMessage).toBeUndefined();
      expect(blocks(first, "thinking").map((b) => b.thinking)).toEqual([REASONING.join("")]);
      expect(blocks(first, "text").map((b) => b.text)).toEqual([TEXT.join("")]);
      const calls = blocks(first, "toolCall");
      expect(calls).toHaveLength(1);
      expect(calls[0]?.name).toBe("read");
      expect(calls[0]?.arguments).toEqual(TOOL_ARGS);
      expect((messages.at(-1) as PiAssistantMessage).content).toEqual([{ type: "text", text: "done" }]);
      // The first answer's text deltas (the second answer, "done", follows the tool's result).
      const deltas = pi.textDeltas(from).slice(0, -1);
      expect(pi.textDeltas(from).at(-1)).toBe("done");
      expect(deltas.join("")).toBe(TEXT.join(""));

      const saved = gw.gateway.deltaRecordsSaved - savedBefore;
      if (merging) {
        // 100 text deltas 2 ms apart over a 40 ms window: pi saw a few updates, not a hundred.
        expect(deltas.length).toBeLessThan(40);
        expect(saved).toBeGreaterThan(100);
      } else {
        expect(deltas).toEqual(TEXT);
        expect(saved).toBe(0);
      }
      const deadline = Date.now() + 5_000;
      while (gw.store.llmUsage.sessionTotals(userId, sessionId).requests < 2 && Date.now() < deadline)
        await Bun.sleep(10);
      const totals = gw.store.llmUsage.sessionTotals(userId, sessionId);
      expect(totals.requests).toBe(2);
      expect(totals.input_tokens).toBeGreaterThanOrEqual(120);
      expect(totals.output_tokens).toBeGreaterThanOrEqual(77);
    });
  });
}
