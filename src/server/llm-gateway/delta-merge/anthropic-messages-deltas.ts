import { type DeltaRule, isRecord, onlyKeys } from "./delta-rule.ts";

/** The content_block_delta kinds that append text, and the field each appends to. */
const APPENDING: Record<string, string> = {
  text_delta: "text",
  thinking_delta: "thinking",
  input_json_delta: "partial_json",
};

/**
 * Anthropic Messages: a `content_block_delta` that appends text, thinking or a tool input's JSON to one
 * block. Signatures (`signature_delta`), block starts and stops, and message events are never pieces.
 */
export const anthropicMessagesDeltas: DeltaRule = {
  piece(event, data) {
    if (event !== undefined && event !== "content_block_delta") return;
    if (!isRecord(data) || data.type !== "content_block_delta" || typeof data.index !== "number") return;
    if (!onlyKeys(data, ["type", "index", "delta"])) return;
    const delta = data.delta;
    if (!isRecord(delta) || typeof delta.type !== "string") return;
    const field = Object.hasOwn(APPENDING, delta.type) ? APPENDING[delta.type] : undefined;
    if (field === undefined || typeof delta[field] !== "string" || !onlyKeys(delta, ["type", field])) return;
    return {
      key: `${data.index}|${delta.type}`,
      text: delta[field] as string,
      withText: (text) => ({ ...data, delta: { ...delta, [field]: text } }),
    };
  },
};
