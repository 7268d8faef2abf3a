/** A stream record that carries one piece of text and nothing else a client could act on. */
export interface DeltaPiece {
  /** Pieces merge only with the next pieces of the same key: the same message, block or tool call, and kind. */
  key: string;
  text: string;
  /** The record's JSON carrying `text` (the merged pieces) in place of its own. */
  withText(text: string): unknown;
}

/**
 * How one wire format's streamed deltas are recognised. `piece` answers only for a record it is sure
 * holds nothing but appended text (content, reasoning, a tool call's argument fragment); every other
 * record passes through untouched.
 */
export interface DeltaRule {
  piece(event: string | undefined, data: unknown): DeltaPiece | undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when every key of `object` outside `allowed` is null or absent. */
export function onlyKeys(object: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key in object) {
    if (!allowed.includes(key) && object[key] !== null && object[key] !== undefined) return false;
  }
  return true;
}
