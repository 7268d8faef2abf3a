/**
 * Oqto's front end to `pi --mode rpc`: pi itself, started through its own cli.js with the same
 * arguments, settings, extensions, skills and session files, but with each streamed delta written
 * as the delta alone.
 *
 * Why: pi's `message_update` line carries the whole partial message twice (`message` and
 * `assistantMessageEvent.partial`), so the bytes pi serializes and the runner parses grow with the
 * square of the answer's length (200 deltas: 1.3 MB of JSON lines). This front end wraps the one
 * listener RPC mode subscribes to (`AgentSession.subscribe`, public SDK API) so that a
 * `text_delta`, `thinking_delta` or `toolcall_delta` update goes out as
 * `{type, assistantMessageEvent: {type, contentIndex, delta}}` and every other update keeps one copy
 * of the partial (`assistantMessageEvent.partial`) without the duplicate `message`. The translator
 * rebuilds the partial from those deltas (`partial-message.ts`). Should a pi release move
 * `AgentSession`, the import fails loudly at start (pi exits with the error on stderr) instead of
 * running unslimmed unnoticed.
 *
 * A warm spare of the pool (OQTO_POOLED=1) writes `{"type":"oqto_pool_ready","warmed":[…]}` once pi
 * reads its commands, and takes the first line it is sent, `{"type":"oqto_bind","session_id"}`, as the
 * session it now serves (OQTO_SESSION_ID for the tools and extensions it starts from then on) before
 * pi sees any command.
 *
 * Warming: a fresh pi loads its provider's SDK and compiles its streaming code during the user's first
 * answer (~70 ms of its ~220 ms of CPU, and 30-40 ms more to the first delta; BENCHMARKS.md). So every
 * process runs pi-ai's own provider code twice over a canned answer served in the process, for each API
 * its models.json names that has one here (OpenAI Chat Completions, Anthropic Messages): a spare before
 * it says ready (listing what it warmed), a process started for its session in the background once pi
 * reads commands. Only requests to the canned origin are answered so; every other fetch goes out as
 * before, and fetch is restored after. A warm-up that fails or takes over 5 s never holds a spare back.
 *
 * The code runs as `bun -e <LEAN_RPC_SOURCE> -- <cli.js> --mode rpc …`, so no file of Oqto's has to
 * exist inside the sandbox. It is plain JavaScript in a string because it runs in pi's process, not
 * ours; tests/runner/lean-rpc.test.ts runs it against real pi.
 */
const LEAN_RPC_SOURCE = `
const cli = process.argv[1];
const { AgentSession } = await import(new URL("core/agent-session.js", Bun.pathToFileURL(cli)).href);
const toolCallIds = (content, index) =>
  ({ content: content.map((b, i) => (i === index ? { type: b.type, id: b.id, name: b.name } : { type: b.type })) });
const lean = (event) => {
  if (event.type !== "message_update") return event;
  const { partial, ...update } = event.assistantMessageEvent;
  if (update.type.startsWith("toolcall_") && Array.isArray(partial?.content)) {
    update.partial = toolCallIds(partial.content, update.contentIndex);
  }
  return { type: event.type, assistantMessageEvent: update };
};
const subscribe = AgentSession.prototype.subscribe;
AgentSession.prototype.subscribe = function (listener) {
  return subscribe.call(this, (event) => listener(lean(event)));
};
const WARM_ORIGIN = "http://oqto-warm-up.invalid";
const CANNED_ANSWERS = {
  "openai-completions": () => {
    const chunk = (delta, finish = null) =>
      "data: " + JSON.stringify({ id: "warm", object: "chat.completion.chunk", created: 0, model: "warm",
        choices: [{ index: 0, delta, finish_reason: finish }] }) + "\\n\\n";
    let sse = chunk({ role: "assistant", content: "" });
    for (let i = 0; i < 100; i++) sse += chunk({ content: "warm " + i + " " });
    return sse + chunk({}, "stop") + "data: [DONE]\\n\\n";
  },
  "anthropic-messages": () => {
    const event = (data) => "event: " + data.type + "\\ndata: " + JSON.stringify(data) + "\\n\\n";
    let sse = event({ type: "message_start", message: { id: "warm", type: "message", role: "assistant", model: "warm",
      content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } });
    sse += event({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    for (let i = 0; i < 100; i++)
      sse += event({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "warm " + i + " " } });
    sse += event({ type: "content_block_stop", index: 0 });
    sse += event({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 100 } });
    return sse + event({ type: "message_stop" });
  },
};
const warmUp = async () => {
  const { dirname, join } = await import("node:path");
  const apis = new Set();
  try {
    const models = JSON.parse(await Bun.file(join(process.env.PI_CODING_AGENT_DIR ?? "", "models.json")).text());
    for (const provider of Object.values(models.providers ?? {})) {
      if (provider?.api) apis.add(provider.api);
      for (const model of provider?.models ?? []) if (model?.api) apis.add(model.api);
    }
  } catch {
    return []; // no models.json: nothing to warm
  }
  const candidates = [...apis].filter((api) => api in CANNED_ANSWERS);
  if (candidates.length === 0) return [];
  const { streamSimple } = await import(Bun.resolveSync("@mariozechner/pi-ai", dirname(cli)));
  const realFetch = globalThis.fetch;
  const answers = new Map(candidates.map((api) => [api, CANNED_ANSWERS[api]()]));
  globalThis.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input?.url ?? "";
    if (!url.startsWith(WARM_ORIGIN + "/")) return realFetch.call(this, input, init);
    const api = url.slice(WARM_ORIGIN.length + 1).split("/")[0];
    return Promise.resolve(new Response(answers.get(api) ?? "", { headers: { "content-type": "text/event-stream" } }));
  };
  const warmed = [];
  try {
    for (const api of candidates) {
      const model = { id: "warm", name: "warm", api, provider: "oqto-warm-up", baseUrl: WARM_ORIGIN + "/" + api,
        reasoning: false, input: ["text"], cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
        contextWindow: 8192, maxTokens: 256 };
      // Twice: the second pass runs what the first compiled, as a user's answer would.
      let answered = true;
      for (let pass = 0; pass < 2; pass++) {
        const events = streamSimple(model, { messages: [{ role: "user", content: "warm", timestamp: 0 }] },
          { apiKey: "oqto-warm-up", maxRetries: 0 });
        for await (const event of events) if (event.type === "error") answered = false;
      }
      if (answered) warmed.push(api);
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  return warmed;
};
// pi attaches its command reader once it is ready: then a process started for its session warms its
// provider code in the background (before the user's first prompt, typically; a prompt sent at once
// shares the cores with it), and a warm spare (pi-pool.ts) warms first, then says it is ready and takes
// the first line as the session it is handed to before pi sees anything else.
// stdout's own write, taken before pi loads: the ready line passes through nothing pi installs.
const rawWrite = process.stdout.write.bind(process.stdout);
const on = process.stdin.on;
process.stdin.on = function (name, listener) {
  if (name !== "data") return on.call(this, name, listener);
  process.stdin.on = on;
  if (process.env.OQTO_POOLED !== "1") {
    warmUp().catch(() => []);
    return on.call(this, name, listener);
  }
  let head = Buffer.alloc(0);
  let bound = false;
  on.call(this, "data", (chunk) => {
    if (bound) return listener(chunk);
    head = Buffer.concat([head, Buffer.from(chunk)]);
    const end = head.indexOf(10);
    if (end < 0) return;
    const bind = JSON.parse(head.subarray(0, end).toString("utf8"));
    if (bind.type !== "oqto_bind" || typeof bind.session_id !== "string") throw new Error("pooled pi: no oqto_bind first");
    process.env.OQTO_SESSION_ID = bind.session_id;
    bound = true;
    if (end + 1 < head.length) listener(head.subarray(end + 1));
  });
  const ready = (warmed) => rawWrite(JSON.stringify({ type: "oqto_pool_ready", warmed }) + "\\n");
  Promise.race([warmUp().catch(() => []), Bun.sleep(5000).then(() => [])]).then(ready, () => ready([]));
  return this;
};
await import(cli);
`;

/** argv that runs pi's `cli` under `runtime` through the lean front end; `args` are pi's own. */
export function leanRpcArgv(runtime: string, cli: string, args: string[]): string[] {
  return [runtime, "-e", LEAN_RPC_SOURCE, "--", cli, ...args];
}
