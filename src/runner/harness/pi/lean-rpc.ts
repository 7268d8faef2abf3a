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
 * A warm spare of the pool (OQTO_POOLED=1) writes `{"type":"oqto_pool_ready"}` once pi reads its
 * commands, and takes the first line it is sent, `{"type":"oqto_bind","session_id"}`, as the session
 * it now serves (OQTO_SESSION_ID for the tools and extensions it starts from then on) before pi sees
 * any command.
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
if (process.env.OQTO_POOLED === "1") {
  // A warm spare (pi-pool.ts): say when pi reads commands, and take the first line as the session
  // it is handed to before pi sees anything else.
  const rawWrite = process.stdout.write.bind(process.stdout);
  const on = process.stdin.on;
  process.stdin.on = function (name, listener) {
    if (name !== "data") return on.call(this, name, listener);
    process.stdin.on = on;
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
    rawWrite('{"type":"oqto_pool_ready"}\\n');
    return this;
  };
}
await import(cli);
`;

/** argv that runs pi's `cli` under `runtime` through the lean front end; `args` are pi's own. */
export function leanRpcArgv(runtime: string, cli: string, args: string[]): string[] {
  return [runtime, "-e", LEAN_RPC_SOURCE, "--", cli, ...args];
}
