import { type DeltaPiece, type DeltaRule, isRecord, onlyKeys } from "./delta-rule.ts";

/** The delta fields that carry appended text: the answer, and reasoning under the names providers use. */
const TEXT_FIELDS = ["content", "reasoning_content", "reasoning", "reasoning_text"] as const;

/** `{tool_calls: [{index, function: {arguments}}]}` without an id or name: a fragment of a call already begun. */
function argumentsPiece(
  prefix: string,
  delta: Record<string, unknown>,
  rebuild: (delta: Record<string, unknown>) => unknown,
): DeltaPiece | undefined {
  const calls = delta.tool_calls;
  if (!Array.isArray(calls) || calls.length !== 1) return undefined;
  const call: unknown = calls[0];
  if (!isRecord(call) || typeof call.index !== "number" || !onlyKeys(call, ["index", "type", "function"]))
    return undefined;
  if (call.type !== undefined && call.type !== null && call.type !== "function") return undefined;
  const fn = call.function;
  if (!isRecord(fn) || typeof fn.arguments !== "string" || !onlyKeys(fn, ["arguments"])) return undefined;
  return {
    key: `${prefix}|tool ${call.index}`,
    text: fn.arguments,
    withText: (text) =>
      rebuild({ ...delta, tool_calls: [{ ...call, function: { ...fn, arguments: text } }] }),
  };
}

/**
 * OpenAI Chat Completions: a `chat.completion.chunk` with one choice, no finish reason, no usage, whose
 * delta is one text field, or one argument fragment of a tool call. The role chunk, a tool call's first
 * chunk (id and name), refusals, logprobs and the last chunks are never pieces.
 */
export const openAiCompletionsDeltas: DeltaRule = {
  piece(event, data) {
    if (event !== undefined || !isRecord(data) || (data.usage !== undefined && data.usage !== null)) return;
    const choices = data.choices;
    if (!Array.isArray(choices) || choices.length !== 1) return;
    const choice: unknown = choices[0];
    if (!isRecord(choice) || !onlyKeys(choice, ["index", "delta"])) return;
    const delta = choice.delta;
    if (!isRecord(delta)) return;
    const prefix = `${String(data.id)}|${String(choice.index)}`;
    const rebuild = (next: Record<string, unknown>) => ({ ...data, choices: [{ ...choice, delta: next }] });
    if (delta.tool_calls !== undefined && delta.tool_calls !== null) {
      return onlyKeys(delta, ["tool_calls"]) ? argumentsPiece(prefix, delta, rebuild) : undefined;
    }
    let field: string | undefined;
    for (const name of TEXT_FIELDS) {
      if (delta[name] === undefined || delta[name] === null) continue;
      if (field !== undefined || typeof delta[name] !== "string") return;
      field = name;
    }
    if (field === undefined || !onlyKeys(delta, [field])) return;
    const textField = field;
    return {
      key: `${prefix}|${textField}`,
      text: delta[textField] as string,
      withText: (text) => rebuild({ ...delta, [textField]: text }),
    };
  },
};
