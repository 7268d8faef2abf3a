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
await import(cli);
`;

/** argv that runs pi's `cli` under `runtime` through the lean front end; `args` are pi's own. */
export function leanRpcArgv(runtime: string, cli: string, args: string[]): string[] {
  return [runtime, "-e", LEAN_RPC_SOURCE, "--", cli, ...args];
}
