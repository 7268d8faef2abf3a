import type { ModelSpec } from "../../../../src/protocol/index.ts";
import { typedNumber } from "../common/typed-number.ts";

/** The number fields of a model row, as typed: empty is "not known". */
export const MODEL_NUMBER_FIELDS = [
  "context_window",
  "max_tokens",
  "price_input",
  "price_output",
  "price_cache_read",
  "price_cache_write",
] as const;
export type ModelNumberField = (typeof MODEL_NUMBER_FIELDS)[number];

/** One model in the provider form's table: what the admin typed, and whether it is offered to users. */
export interface ModelRow {
  /** Render key, stable while the id is edited. */
  key: string;
  id: string;
  /** Kept as the provider or an earlier save knew it; not edited in the form. */
  name?: string | undefined;
  /** The model reasons (pi offers thinking levels for it). */
  reasoning?: boolean | undefined;
  input?: ModelSpec["input"];
  /** Unticked rows stay in the table (as the provider lists them) but are not saved. */
  offered: boolean;
  values: Record<ModelNumberField, string>;
}

let rowCounter = 0;

const text = (value: number | undefined) => (value === undefined ? "" : String(value));

export function rowFromSpec(spec: ModelSpec, offered: boolean): ModelRow {
  rowCounter += 1;
  return {
    key: `model-${rowCounter}`,
    id: spec.id,
    name: spec.name,
    reasoning: spec.reasoning,
    input: spec.input,
    offered,
    values: {
      context_window: text(spec.context_window),
      max_tokens: text(spec.max_tokens),
      price_input: text(spec.price?.input),
      price_output: text(spec.price?.output),
      price_cache_read: spec.price?.cache_read ? String(spec.price.cache_read) : "",
      price_cache_write: spec.price?.cache_write ? String(spec.price.cache_write) : "",
    },
  };
}

/**
 * Adds the models a provider lists to the table, not offered until ticked. A model already in the table
 * keeps what the admin typed; only the fields still empty take what the provider says.
 */
export function mergeProbed(rows: readonly ModelRow[], probed: readonly ModelSpec[]): ModelRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const merged = rows.map((row) => {
    const listed = probed.find((spec) => spec.id === row.id);
    if (!listed) return row;
    const fresh = rowFromSpec(listed, row.offered);
    const values = { ...row.values };
    for (const field of MODEL_NUMBER_FIELDS) if (values[field] === "") values[field] = fresh.values[field];
    return {
      ...row,
      name: row.name ?? fresh.name,
      reasoning: row.reasoning ?? fresh.reasoning,
      input: row.input ?? fresh.input,
      values,
    };
  });
  for (const spec of probed) if (!byId.has(spec.id)) merged.push(rowFromSpec(spec, false));
  return merged;
}

/**
 * The model as the API takes it. A price needs input and output (cache prices default to 0 on the server);
 * one typed without the other is sent as it is, so that the server names the missing one.
 */
export function specFromRow(row: ModelRow): Record<string, unknown> {
  const number = (field: ModelNumberField) => typedNumber(row.values[field]);
  const price = {
    input: number("price_input"),
    output: number("price_output"),
    cache_read: number("price_cache_read"),
    cache_write: number("price_cache_write"),
  };
  const priced = Object.values(price).some((value) => value !== undefined);
  const defined = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
  return defined({
    id: row.id.trim(),
    name: row.name,
    context_window: number("context_window"),
    max_tokens: number("max_tokens"),
    reasoning: row.reasoning,
    input: row.input,
    price: priced ? defined(price) : undefined,
  });
}
