/** The scripted fake OpenAI server itself (PI-RPC.md §10). */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type FakeLlm, fakeProviderModelsJson, startFakeLlm } from "../fixtures/fake-llm.ts";

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(async () => {
  await llm.stop();
});
beforeEach(() => llm.reset());

function chat(messages: Array<{ role: string; content: string }>, extra: Record<string, unknown> = {}) {
  return fetch(`${llm.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-model", stream: true, messages, ...extra }),
  });
}

/** The `data:` payloads of an SSE body. */
async function records(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((r) => r.length > 0)
    .map((r) => {
      expect(r.startsWith("data: ")).toBe(true);
      return r.slice("data: ".length);
    });
}

type Chunk = {
  choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
  usage?: unknown;
};

describe("fake LLM", () => {
  test("url is the /v1 base on 127.0.0.1 and /v1/models lists fake-model", async () => {
    expect(llm.url).toBe(`http://127.0.0.1:${llm.port}/v1`);
    const models = await (await fetch(`${llm.url}/models`)).json();
    expect(models).toMatchObject({ object: "list", data: [{ id: "fake-model" }] });
  });

  test("streams text, reasoning and chunked tool calls in the documented SSE shape", async () => {
    llm.script([
      {
        reasoning: ["r1", "r2"],
        text: ["a", "b"],
        toolCalls: [
          { id: "call_1", name: "write", arguments: { path: "x.txt", content: "0123456789abcdef" } },
        ],
        usage: { prompt_tokens: 7, completion_tokens: 3 },
      },
    ]);
    const response = await chat([{ role: "user", content: "go" }]);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const data = await records(response);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
    expect(deltas.filter((d) => "reasoning_content" in d).map((d) => d.reasoning_content)).toEqual([
      "r1",
      "r2",
    ]);
    expect(deltas.filter((d) => "content" in d && d.content !== "").map((d) => d.content)).toEqual([
      "a",
      "b",
    ]);
    const calls = deltas.flatMap((d) => (d.tool_calls as Array<Record<string, unknown>> | undefined) ?? []);
    expect(calls[0]).toEqual({
      index: 0,
      id: "call_1",
      type: "function",
      function: { name: "write", arguments: "" },
    });
    const fragments = calls.slice(1).map((c) => (c.function as { arguments: string }).arguments);
    expect(fragments.every((f) => f.length <= 16)).toBe(true);
    expect(JSON.parse(fragments.join(""))).toEqual({ path: "x.txt", content: "0123456789abcdef" });
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  test("match picks the step for the last message; unmatched steps are FIFO; then fallbacks", async () => {
    llm.script([{ text: "first" }, { text: "for beta", match: "beta" }, { text: "second" }]);
    const text = async (content: string, role = "user") => {
      const data = await records(await chat([{ role, content }]));
      return data
        .slice(0, -1)
        .map((d) => JSON.parse(d) as Chunk)
        .flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ""))
        .join("");
    };
    expect(await text("alpha")).toBe("first");
    expect(await text("say beta now")).toBe("for beta");
    expect(await text("gamma")).toBe("second");
    expect(llm.pending()).toBe(0);
    expect(await text("anything")).toBe("OK");
    expect(await text("result", "tool")).toBe("Tool result received.");
    expect(await text("<conversation>x</conversation>")).toContain("## ");
    expect(llm.requests()).toHaveLength(6);
  });

  test("status steps reply with that status and body; hang waits for the client to go away", async () => {
    llm.script([{ status: 503, errorBody: { error: { message: "busy" } } }, { hang: true }]);
    const failed = await chat([{ role: "user", content: "x" }]);
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ error: { message: "busy" } });

    const abort = new AbortController();
    const hanging = await fetch(`${llm.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "x" }] }),
      signal: abort.signal,
    });
    const reader = (hanging.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"role":"assistant"');
    const next = reader.read();
    const raced = await Promise.race([next.then(() => "data"), Bun.sleep(300).then(() => "waiting")]);
    expect(raced).toBe("waiting");
    abort.abort();
    await next.catch(() => undefined);
  });

  test("control endpoints script, report and reset over HTTP; bad input is a 400", async () => {
    const base = llm.url.replace(/\/v1$/, "");
    const queued = await fetch(`${base}/__script`, {
      method: "POST",
      body: JSON.stringify({ steps: [{ text: "x" }, { text: "y" }] }),
    });
    expect(await queued.json()).toEqual({ queued: 2 });
    await fetch(`${base}/__script`, {
      method: "POST",
      body: JSON.stringify({ steps: [{ text: "z" }], replace: true }),
    });
    expect(await (await fetch(`${base}/__queue`)).json()).toEqual({ pending: 1 });
    await chat([{ role: "user", content: "hi" }]).then((r) => r.text());
    expect(await (await fetch(`${base}/__requests`)).json()).toMatchObject([
      { messages: [{ content: "hi" }] },
    ]);
    await fetch(`${base}/__reset`, { method: "POST" });
    expect(await (await fetch(`${base}/__requests`)).json()).toEqual([]);

    const badStep = await fetch(`${base}/__script`, {
      method: "POST",
      body: JSON.stringify({ steps: [{ txt: 1 }] }),
    });
    expect(badStep.status).toBe(400);
    const notJson = await fetch(`${llm.url}/chat/completions`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    const noMessages = await fetch(`${llm.url}/chat/completions`, { method: "POST", body: "{}" });
    expect(noMessages.status).toBe(400);
    expect(() => llm.script([{ status: 99 }])).toThrow();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  test("a non-streaming request gets one chat.completion object", async () => {
    llm.script([{ text: ["a", "b"] }]);
    const response = await chat([{ role: "user", content: "x" }], { stream: false });
    expect(await response.json()).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "ab" }, finish_reason: "stop" }],
    });
  });

  test("fakeProviderModelsJson describes provider fake with two models", () => {
    const json = fakeProviderModelsJson("http://127.0.0.1:1/v1") as {
      providers: { fake: { baseUrl: string; models: Array<{ id: string; reasoning: boolean }> } };
    };
    expect(json.providers.fake.baseUrl).toBe("http://127.0.0.1:1/v1");
    expect(json.providers.fake.models.map((m) => [m.id, m.reasoning])).toEqual([
      ["fake-model", false],
      ["fake-model-2", true],
    ]);
  });
});
