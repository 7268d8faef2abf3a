import { z } from "zod";
import { invalidArgument } from "./rpc-errors.ts";

/** Validators for request fields the protobuf types cannot express; each failure is INVALID_ARGUMENT. */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

export function requireUuid(value: string, field: string): string {
  if (!isUuid(value)) throw invalidArgument(`${field} must be a UUID, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

/** A required identifier: non-blank. */
export function requireText(value: string, field: string): string {
  if (value.trim() === "") throw invalidArgument(`${field} is required`);
  return value;
}

/** Converts a wire int64 to a JS number, rejecting values that cannot be stored exactly. */
export function toCount(value: bigint, field: string): number {
  if (value < 0n) throw invalidArgument(`${field} must not be negative`);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`${field} is too large`);
  return Number(value);
}

export function toOptionalCount(value: bigint | undefined, field: string): number | null {
  return value === undefined ? null : toCount(value, field);
}

export function requireIndex(value: number, field: string): number {
  if (value < 0) throw invalidArgument(`${field} must not be negative`);
  return value;
}

export function requireFiniteCost(value: number | undefined, field: string): number | null {
  if (value === undefined) return null;
  if (!Number.isFinite(value) || value < 0)
    throw invalidArgument(`${field} must be a finite, non-negative number`);
  return value;
}

const FORK_TYPES = new Set(["fork", "thread", "resume"]);

export function requireForkType(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!FORK_TYPES.has(value))
    throw invalidArgument(`fork_type must be fork, thread or resume, got ${JSON.stringify(value)}`);
  return value;
}

const JsonObject = z.record(z.string(), z.unknown());
const PartsArray = z.array(z.looseObject({ type: z.string().min(1) }));

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArgument(`${field} is not valid JSON`);
  }
}

function checkShape(schema: z.ZodType, text: string, field: string, expected: string): void {
  if (!schema.safeParse(parseJson(text, field)).success)
    throw invalidArgument(`${field} must be ${expected}`);
}

/** `metadata_json`: a JSON object; empty means `{}`. */
export function metadataColumn(text: string, field = "metadata_json"): string {
  if (text === "") return "{}";
  checkShape(JsonObject, text, field, "a JSON object");
  return text;
}

/** `parts_json`: a JSON array of parts tagged by `type`; empty means `[]`. */
export function partsColumn(text: string, field = "parts_json"): string {
  if (text === "") return "[]";
  checkShape(PartsArray, text, field, "a JSON array of objects with a string `type`");
  return text;
}

/** `sender_json`: a JSON object, or empty for "no sender". */
export function senderColumn(text: string, field = "sender_json"): string {
  if (text === "") return "";
  checkShape(JsonObject, text, field, "a JSON object or empty");
  return text;
}
