import type { MessageInitShape } from "@bufbuild/protobuf";
import { z } from "zod";
import type { Message as HstryMessage, MessageSchema } from "../gen/hstry_service_pb.ts";
import { ProtocolError } from "../protocol/common.ts";
import { Message, Part, Sender, Usage } from "../protocol/message.ts";

/**
 * Canonical Message (PROTOCOL.md §1.4) ⇄ hstry Message row (HSTRY.md §5.2). Fields without an hstry column
 * travel in `metadata_json` under their own names; the canonical `metadata` entries sit beside them.
 */

/** `metadata_json` keys that carry canonical top-level fields rather than canonical `metadata`. */
const FIELD_KEYS = ["stop_reason", "usage", "tool_call_id", "tool_name", "is_error"] as const;

/** The text search sees: text parts and string tool outputs, one per line. */
export function searchableContent(parts: Part[]): string {
  const lines: string[] = [];
  for (const part of parts) {
    if (part.type === "text") lines.push(part.text);
    else if (part.type === "tool_result" && typeof part.output === "string") lines.push(part.output);
  }
  return lines.join("\n");
}

export function toHstryMessage(message: Message): MessageInitShape<typeof MessageSchema> {
  const metadata: Record<string, unknown> = { ...message.metadata };
  for (const key of FIELD_KEYS) {
    if (message[key] !== undefined) metadata[key] = message[key];
  }
  return {
    idx: message.idx,
    role: message.role,
    content: searchableContent(message.parts),
    partsJson: JSON.stringify(message.parts),
    createdAtMs: BigInt(Math.round(message.created_at)),
    model: message.model,
    tokens: message.usage ? BigInt(message.usage.input_tokens + message.usage.output_tokens) : undefined,
    costUsd: message.usage?.cost_usd,
    metadataJson: JSON.stringify(metadata),
    senderJson: message.sender ? JSON.stringify(message.sender) : "",
    provider: message.provider,
    clientId: message.client_id,
  };
}

/** What Oqto reads back out of `metadata_json`; anything else becomes canonical `metadata`. */
const StoredMetadata = z.looseObject({
  stop_reason: Message.shape.stop_reason,
  usage: Usage.optional(),
  tool_call_id: z.string().optional(),
  tool_name: z.string().optional(),
  is_error: z.boolean().optional(),
});

function parseColumn<T>(schema: z.ZodType<T>, text: string, what: string, idx: number): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError("internal", `history message ${idx}: ${what} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ProtocolError("internal", `history message ${idx}: ${what}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Rebuilds a canonical Message; its id is `<platformId>#<idx>`, hstry's own row id is not exposed. */
export function fromHstryMessage(row: HstryMessage, platformId: string): Message {
  const stored = parseColumn(StoredMetadata, row.metadataJson || "{}", "metadata_json", row.idx);
  const { stop_reason, usage, tool_call_id, tool_name, is_error, ...rest } = stored;
  const candidate = {
    id: `${platformId}#${row.idx}`,
    idx: row.idx,
    role: row.role,
    client_id: row.clientId,
    sender: row.senderJson ? parseColumn(Sender, row.senderJson, "sender_json", row.idx) : undefined,
    parts: parseColumn(z.array(Part), row.partsJson || "[]", "parts_json", row.idx),
    created_at: Number(row.createdAtMs ?? 0n),
    model: row.model,
    provider: row.provider,
    stop_reason,
    usage,
    tool_call_id,
    tool_name,
    is_error,
    metadata: Object.keys(rest).length > 0 ? rest : undefined,
  };
  const parsed = Message.safeParse(candidate);
  if (!parsed.success) {
    throw new ProtocolError("internal", `history message ${row.idx}: ${z.prettifyError(parsed.error)}`);
  }
  return dropUndefined(parsed.data);
}

/** Canonical messages omit absent fields instead of carrying `undefined` (they are compared and re-encoded). */
function dropUndefined(message: Message): Message {
  return Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined)) as Message;
}
