/** The pi → canonical translator and message mapper on recorded pi 0.73.1 records. */
import { describe, expect, test } from "bun:test";
import type { EventName, EventPayload } from "../../src/protocol/events.ts";
import { applyToolCallStatus, mapPiConversation } from "../../src/runner/harness/pi/message-mapper.ts";
import { PiEvent } from "../../src/runner/harness/pi/pi-schemas.ts";
import { PiTranslator } from "../../src/runner/harness/pi/translator.ts";

type Emitted = { event: EventName } & Record<string, unknown>;

function setup(firstIdx = 0) {
  const emitted: Emitted[] = [];
  const calls: string[] = [];
  const inputs: Array<{ id: string; timeout: number | undefined }> = [];
  const translator = new PiTranslator("sid", firstIdx, {
    emit: <E extends EventName>(event: E, payload: EventPayload<E>) => emitted.push({ event, ...payload }),
    agentStarted: () => calls.push("agentStarted"),
    agentEnded: (reason) => calls.push(`agentEnded:${reason}`),
    autoRetryStarted: () => calls.push("autoRetryStarted"),
    compactionEnded: (willRetry) => calls.push(`compactionEnded:${willRetry}`),
    titleChanged: (title) => calls.push(`title:${title}`),
    inputRequested: (request, timeout) => inputs.push({ id: request.request_id, timeout }),
    log: () => undefined,
  });
  /** Feeds raw records through the same schema PiProcess uses. */
  const feed = (...records: unknown[]) => {
    for (const record of records) translator.handle(PiEvent.parse(record));
  };
  return { translator, emitted, calls, inputs, feed };
}

const usage = { input: 100, output: 20, cacheRead: 1, cacheWrite: 2, totalTokens: 123, cost: { total: 0.5 } };
const assistant = (content: unknown[], stopReason = "stop", extra: Record<string, unknown> = {}) => ({
  role: "assistant",
  content,
  api: "openai-completions",
  provider: "fake",
  model: "fake-model",
  usage,
  stopReason,
  timestamp: 1000,
  ...extra,
});
const update = (type: string, contentIndex: number, extra: Record<string, unknown> = {}) => ({
  type: "message_update",
  message: {},
  assistantMessageEvent: { type, contentIndex, ...extra },
});

describe("PiTranslator", () => {
  test("a text turn: message ids, deltas, message_end mapping, stream.done, phases", () => {
    const { emitted, calls, feed } = setup(4);
    feed(
      { type: "agent_start" },
      { type: "turn_start" },
      {
        type: "message_start",
        message: { role: "user", content: [{ type: "text", text: "hi" }], timestamp: 999 },
      },
      {
        type: "message_end",
        message: { role: "user", content: [{ type: "text", text: "hi" }], timestamp: 999 },
      },
      { type: "message_start", message: assistant([]) },
      update("text_start", 0, { partial: { content: [{ type: "text", text: "Hello" }] } }),
      update("text_delta", 0, { delta: "Hel" }),
      update("text_delta", 0, { delta: "lo" }),
      update("text_end", 0, { content: "Hello" }),
      {
        type: "message_end",
        message: assistant([{ type: "text", text: "Hello" }], "stop", { responseId: "r-1" }),
      },
      { type: "turn_end" },
      { type: "agent_end", messages: [assistant([{ type: "text", text: "Hello" }])] },
    );
    expect(emitted.map((e) => e.event)).toEqual([
      "agent.working",
      "stream.message_start",
      "stream.message_end",
      "stream.message_start",
      "stream.text_delta",
      "stream.text_delta",
      "stream.message_end",
      "stream.done",
    ]);
    expect(emitted[1]).toMatchObject({ message_id: "sid#4", role: "user", idx: 4 });
    expect(emitted[4]).toMatchObject({ message_id: "sid#5", delta: "Hel", content_index: 0 });
    expect(emitted[6]).toMatchObject({
      message: {
        id: "sid#5",
        idx: 5,
        role: "assistant",
        parts: [{ type: "text", id: "sid#5/0", text: "Hello" }],
        created_at: 1000,
        provider: "fake",
        model: "fake-model",
        stop_reason: "stop",
        usage: {
          input_tokens: 100,
          output_tokens: 20,
          cache_read_tokens: 1,
          cache_write_tokens: 2,
          cost_usd: 0.5,
        },
        metadata: { response_id: "r-1" },
      },
    });
    expect(emitted[7]).toMatchObject({ reason: "stop" });
    expect(calls).toEqual(["agentStarted", "agentEnded:stop"]);
  });

  test("tool_call_start is deferred until id and name are known; held deltas follow it", () => {
    const { emitted, feed } = setup();
    feed({ type: "agent_start" }, { type: "message_start", message: assistant([]) });
    feed(
      update("toolcall_start", 1, {
        partial: { content: [{ type: "text", text: "" }, { type: "toolCall" }] },
      }),
    );
    feed(update("toolcall_delta", 1, { delta: '{"pa', partial: { content: [{}, { type: "toolCall" }] } }));
    expect(emitted.filter((e) => e.event.startsWith("stream.tool_call"))).toEqual([]);
    feed(
      update("toolcall_delta", 1, {
        delta: 'th":1}',
        partial: { content: [{}, { id: "c1", name: "read" }] },
      }),
    );
    feed(update("toolcall_delta", 1, { delta: "", partial: { content: [{}, { id: "c1", name: "read" }] } }));
    feed(
      update("toolcall_end", 1, {
        toolCall: { type: "toolCall", id: "c1", name: "read", arguments: { path: 1 } },
      }),
    );
    const tool = emitted.filter((e) => e.event.startsWith("stream.tool_call"));
    expect(tool.map((e) => [e.event, e.delta])).toEqual([
      ["stream.tool_call_start", undefined],
      ["stream.tool_call_delta", '{"pa'],
      ["stream.tool_call_delta", 'th":1}'],
      ["stream.tool_call_delta", ""],
      ["stream.tool_call_end", undefined],
    ]);
    expect(tool[0]).toMatchObject({
      tool_call_id: "c1",
      name: "read",
      content_index: 1,
      message_id: "sid#0",
    });
    expect(tool[4]).toMatchObject({ tool_call: { id: "c1", name: "read", input: { path: 1 } } });
  });

  test("a tool call whose id only arrives with toolcall_end still gets exactly one start first", () => {
    const { emitted, feed } = setup();
    feed({ type: "agent_start" }, { type: "message_start", message: assistant([]) });
    feed(update("toolcall_start", 0), update("toolcall_delta", 0, { delta: "{}" }));
    feed(
      update("toolcall_end", 0, { toolCall: { type: "toolCall", id: "c9", name: "bash", arguments: {} } }),
    );
    expect(emitted.filter((e) => e.event.startsWith("stream.tool_call")).map((e) => e.event)).toEqual([
      "stream.tool_call_start",
      "stream.tool_call_delta",
      "stream.tool_call_end",
    ]);
  });

  test("phases change only inside a run and are deduplicated", () => {
    const { translator, emitted, feed } = setup();
    feed({ type: "tool_execution_start", toolCallId: "x", toolName: "bash", args: {} });
    expect(emitted.filter((e) => e.event === "agent.working")).toEqual([]);
    feed({ type: "agent_start" }, { type: "message_start", message: assistant([]) });
    feed(
      update("text_start", 0),
      update("thinking_start", 1),
      update("thinking_start", 1),
      update("text_start", 2),
    );
    feed({ type: "tool_execution_start", toolCallId: "a", toolName: "bash", args: { command: "ls" } });
    feed({ type: "tool_execution_start", toolCallId: "b", toolName: "bash", args: {} });
    feed({
      type: "tool_execution_end",
      toolCallId: "a",
      toolName: "bash",
      result: { content: [] },
      isError: false,
    });
    expect(translator.phase).toBe("tool_running");
    feed({
      type: "tool_execution_end",
      toolCallId: "b",
      toolName: "bash",
      result: { content: [] },
      isError: true,
    });
    const phases = emitted.filter((e) => e.event === "agent.working").map((e) => [e.phase, e.detail]);
    expect(phases).toEqual([
      ["generating", undefined],
      ["thinking", undefined],
      ["generating", undefined],
      ["tool_running", "bash"],
      ["generating", undefined],
    ]);
    translator.endTurn();
    expect(translator.phase).toBeUndefined();
  });

  test("tool events: start input, accumulated progress, end output with duration and is_error", () => {
    const { emitted, feed } = setup();
    feed({ type: "agent_start" });
    feed({ type: "tool_execution_start", toolCallId: "t1", toolName: "bash", args: { command: "echo" } });
    feed({
      type: "tool_execution_update",
      toolCallId: "t1",
      toolName: "bash",
      args: {},
      partialResult: { content: [{ type: "text", text: "line1\n" }], details: {} },
    });
    feed({
      type: "tool_execution_end",
      toolCallId: "t1",
      toolName: "bash",
      result: {
        content: [
          { type: "text", text: "line1\n" },
          { type: "text", text: "line2\n" },
        ],
      },
      isError: true,
    });
    feed({
      type: "message_start",
      message: {
        role: "toolResult",
        toolCallId: "t1",
        toolName: "bash",
        content: [],
        isError: true,
        timestamp: 5,
      },
    });
    feed({
      type: "message_end",
      message: {
        role: "toolResult",
        toolCallId: "t1",
        toolName: "bash",
        content: [{ type: "text", text: "out" }],
        isError: true,
        timestamp: 5,
        details: { truncated: false },
      },
    });
    expect(emitted.find((e) => e.event === "tool.start")).toMatchObject({
      tool_call_id: "t1",
      input: { command: "echo" },
    });
    expect(emitted.find((e) => e.event === "tool.progress")).toMatchObject({ partial_output: "line1\n" });
    const end = emitted.find((e) => e.event === "tool.end");
    expect(end).toMatchObject({ output: "line1\nline2\n", is_error: true });
    expect(typeof end?.duration_ms).toBe("number");
    expect(emitted.find((e) => e.event === "stream.message_end")).toMatchObject({
      message: {
        role: "tool",
        tool_call_id: "t1",
        tool_name: "bash",
        is_error: true,
        metadata: { details: { truncated: false } },
        parts: [
          {
            type: "tool_result",
            toolCallId: "t1",
            name: "bash",
            output: "out",
            isError: true,
            durationMs: end?.duration_ms,
          },
        ],
      },
    });
    expect(emitted.some((e) => e.event === "stream.done")).toBe(false);
  });

  test("an error stop reason emits agent.error after stream.done; aborted does not", () => {
    const { emitted, calls, feed } = setup();
    feed({ type: "agent_start" }, { type: "message_start", message: assistant([]) });
    feed({ type: "message_end", message: assistant([], "error", { errorMessage: "500 boom" }) });
    feed({ type: "agent_end", messages: [assistant([], "error")] });
    expect(emitted.slice(-2)).toMatchObject([
      { event: "stream.done", reason: "error" },
      { event: "agent.error", error: "500 boom", recoverable: true },
    ]);
    expect(calls.at(-1)).toBe("agentEnded:error");
    feed({ type: "message_start", message: assistant([]) });
    feed({ type: "message_end", message: assistant([], "aborted", { errorMessage: "Request was aborted" }) });
    expect(emitted.at(-1)).toMatchObject({ event: "stream.done", reason: "aborted" });
    expect(emitted.at(-2)).toMatchObject({
      event: "stream.message_end",
      message: { metadata: { error_message: "Request was aborted" } },
    });
  });

  test("queue, retry, compaction, title, thinking level and extension errors", () => {
    const { emitted, calls, feed } = setup();
    feed({ type: "agent_start" });
    feed({ type: "queue_update", steering: ["s"], followUp: ["f"] });
    feed({ type: "auto_retry_start", attempt: 1, maxAttempts: 3, delayMs: 50, errorMessage: "500" });
    feed({ type: "auto_retry_end", success: false, attempt: 3, finalError: "gave up" });
    feed({ type: "compaction_start", reason: "threshold" });
    feed({
      type: "compaction_end",
      reason: "threshold",
      result: { summary: "sum", firstKeptEntryId: "e1", tokensBefore: 900, details: {} },
      aborted: false,
      willRetry: true,
    });
    feed({
      type: "compaction_end",
      reason: "manual",
      aborted: true,
      willRetry: false,
      errorMessage: "stopped",
    });
    feed({ type: "session_info_changed", name: "My title" });
    feed({ type: "thinking_level_changed", level: "high" });
    feed({ type: "extension_error", extensionPath: "/x/ext.ts", event: "tool_call", error: "bad" });
    const byName = (name: EventName) => emitted.filter((e) => e.event === name);
    expect(byName("queue.updated")).toMatchObject([{ steering: ["s"], follow_up: ["f"] }]);
    expect(byName("retry.start")).toMatchObject([
      { attempt: 1, max_attempts: 3, delay_ms: 50, error: "500" },
    ]);
    expect(byName("retry.end")).toMatchObject([{ success: false, attempt: 3, final_error: "gave up" }]);
    expect(byName("compact.start")).toMatchObject([{ reason: "threshold" }]);
    expect(byName("compact.end")).toEqual([
      { event: "compact.end", success: true, will_retry: true, summary: "sum", tokens_before: 900 },
      { event: "compact.end", success: false, will_retry: false, error: "stopped" },
    ]);
    expect(byName("session.title_changed")).toMatchObject([{ title: "My title" }]);
    expect(byName("config.thinking_level_changed")).toMatchObject([{ level: "high" }]);
    expect(byName("notify")).toMatchObject([{ level: "error" }]);
    expect(String(byName("notify")[0]?.message)).toContain("/x/ext.ts");
    const phases = byName("agent.working").map((e) => e.phase);
    expect(phases).toEqual(["generating", "retrying", "compacting", "generating"]);
    expect(calls).toEqual([
      "agentStarted",
      "autoRetryStarted",
      "compactionEnded:true",
      "compactionEnded:false",
      "title:My title",
    ]);
  });

  test("extension UI requests: dialogs become agent.input_needed, the rest notify/status/phase/title", () => {
    const { emitted, inputs, calls, feed } = setup();
    feed({ type: "agent_start" });
    const ui = (fields: Record<string, unknown>) => ({
      type: "extension_ui_request",
      id: `u${inputs.length}`,
      ...fields,
    });
    feed(ui({ method: "select", title: "Pick", options: ["a", "b"], timeout: 5000 }));
    feed(ui({ method: "confirm", title: "Sure?", message: "Really" }));
    feed(ui({ method: "input", title: "Name", placeholder: "you" }));
    feed(ui({ method: "editor", title: "Edit", prefill: "text" }));
    feed(ui({ method: "notify", message: "careful", notifyType: "warning" }));
    feed(ui({ method: "setStatus", statusKey: "oqto_phase", statusText: "tool_running:Searching the web" }));
    feed(ui({ method: "setStatus", statusKey: "oqto_phase", statusText: "dancing" }));
    feed(ui({ method: "setStatus", statusKey: "oqto_title_changed", statusText: "Auto title" }));
    feed(ui({ method: "setStatus", statusKey: "git", statusText: "main" }));
    feed(ui({ method: "setStatus", statusKey: "git" }));
    feed(ui({ method: "setWidget", widgetKey: "w" }));
    const needed = emitted.filter((e) => e.event === "agent.input_needed").map((e) => e.request);
    expect(needed).toEqual([
      { type: "select", request_id: "u0", title: "Pick", options: ["a", "b"], timeout: 5000 },
      { type: "confirm", request_id: "u1", title: "Sure?", message: "Really" },
      { type: "input", request_id: "u2", title: "Name", placeholder: "you" },
      { type: "input", request_id: "u3", title: "Edit", multiline: true, prefill: "text" },
    ]);
    expect(inputs).toEqual([
      { id: "u0", timeout: 5000 },
      { id: "u1", timeout: undefined },
      { id: "u2", timeout: undefined },
      { id: "u3", timeout: undefined },
    ]);
    const rest = emitted.filter((e) => !["agent.input_needed"].includes(e.event)).slice(1);
    expect(rest).toEqual([
      { event: "notify", level: "warning", message: "careful" },
      { event: "agent.working", phase: "tool_running", detail: "Searching the web" },
      { event: "session.title_changed", title: "Auto title" },
      { event: "status", key: "git", text: "main" },
      { event: "status", key: "git", text: null },
    ]);
    expect(calls).toContain("title:Auto title");
  });

  test("client_id is matched FIFO by user message text", () => {
    const { translator, emitted, feed } = setup();
    translator.expectUserMessage("same", "c1");
    translator.expectUserMessage("other", "c2");
    translator.expectUserMessage("same", "c3");
    const user = (text: string) => ({ role: "user", content: [{ type: "text", text }], timestamp: 1 });
    for (const text of ["same", "unknown", "same", "other"]) {
      feed({ type: "message_start", message: user(text) }, { type: "message_end", message: user(text) });
    }
    const ends = emitted
      .filter((e) => e.event === "stream.message_end")
      .map((e) => (e.message as { client_id?: string }).client_id);
    expect(ends).toEqual(["c1", undefined, "c3", "c2"]);
    expect(translator.clientIdAt(2)).toBe("c3");
    expect(translator.messageCount).toBe(4);
  });

  test("records that do not match the schema are rejected (PiProcess logs and skips them)", () => {
    expect(PiEvent.safeParse({ type: "message_end", message: { role: "user" } }).success).toBe(false);
    expect(PiEvent.safeParse({ type: "no_such_event" }).success).toBe(false);
    expect(PiEvent.safeParse({ type: "queue_update", steering: "x", followUp: [] }).success).toBe(false);
    // Unknown content blocks and message roles are tolerated.
    expect(
      PiEvent.safeParse({ type: "message_end", message: { role: "custom", content: "x" } }).success &&
        PiEvent.safeParse({ type: "message_end", message: assistant([{ type: "future_block" }]) }).success,
    ).toBe(true);
  });
});

describe("message mapper", () => {
  test("maps a conversation: idx over user/assistant/tool only, images, tool status from results", () => {
    const messages = mapPiConversation(
      "s",
      [
        { role: "user", content: "plain string", timestamp: 1 },
        { role: "bashExecution", command: "ls", output: "", exitCode: 0, timestamp: 2 },
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", data: "aGk=", mimeType: "image/png" },
          ],
          timestamp: 3,
        },
        assistant(
          [
            { type: "thinking", thinking: "hmm", thinkingSignature: "reasoning_content" },
            { type: "toolCall", id: "ok", name: "read", arguments: { path: "a" } },
            { type: "toolCall", id: "bad", name: "read", arguments: { path: "b" } },
            { type: "toolCall", id: "open", name: "read", arguments: {} },
          ],
          "toolUse",
        ),
        {
          role: "toolResult",
          toolCallId: "ok",
          toolName: "read",
          content: [{ type: "text", text: "A" }],
          isError: false,
          timestamp: 5,
        },
        {
          role: "toolResult",
          toolCallId: "bad",
          toolName: "read",
          content: [{ type: "text", text: "E" }],
          isError: true,
          timestamp: 6,
        },
      ] as never,
      (idx) => (idx === 1 ? "client-1" : undefined),
    );
    expect(messages.map((m) => [m.id, m.role])).toEqual([
      ["s#0", "user"],
      ["s#1", "user"],
      ["s#2", "assistant"],
      ["s#3", "tool"],
      ["s#4", "tool"],
    ]);
    expect(messages[0]?.parts).toEqual([{ type: "text", id: "s#0/0", text: "plain string" }]);
    expect(messages[1]).toMatchObject({ client_id: "client-1" });
    expect(messages[1]?.parts[1]).toEqual({
      type: "image",
      id: "s#1/1",
      source: "base64",
      data: "aGk=",
      mimeType: "image/png",
    });
    expect(messages[2]?.stop_reason).toBe("tool_use");
    expect(messages[2]?.parts.map((p) => [p.type, "status" in p ? p.status : undefined])).toEqual([
      ["thinking", undefined],
      ["tool_call", "success"],
      ["tool_call", "error"],
      ["tool_call", undefined],
    ]);
  });

  test("applyToolCallStatus leaves calls without a result pending", () => {
    const messages = mapPiConversation("s", [
      assistant([{ type: "toolCall", id: "x", name: "n", arguments: {} }], "toolUse"),
    ] as never);
    applyToolCallStatus(messages);
    expect(messages[0]?.parts[0]).not.toHaveProperty("status");
  });
});
