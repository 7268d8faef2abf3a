import { type Signal, useSignal } from "@preact/signals";
import { DataTable } from "../common/DataTable.tsx";
import { type ModelNumberField, type ModelRow, rowFromSpec } from "./model-rows.ts";

/** The editable number columns: heading, placeholder and whether it takes fractions. */
const COLUMNS: readonly { field: ModelNumberField; heading: string; label: string; decimal: boolean }[] = [
  { field: "context_window", heading: "Context", label: "context window (tokens)", decimal: false },
  { field: "max_tokens", heading: "Max output", label: "max output tokens", decimal: false },
  {
    field: "price_input",
    heading: "Input $/M",
    label: "input price (USD per million tokens)",
    decimal: true,
  },
  {
    field: "price_output",
    heading: "Output $/M",
    label: "output price (USD per million tokens)",
    decimal: true,
  },
  {
    field: "price_cache_read",
    heading: "Cache read $/M",
    label: "cache read price (USD per million tokens)",
    decimal: true,
  },
  {
    field: "price_cache_write",
    heading: "Cache write $/M",
    label: "cache write price (USD per million tokens)",
    decimal: true,
  },
];

/** The API's path of each column below `models.<n>.`, to put the server's complaint next to its cell. */
export const ISSUE_FIELDS: Record<string, ModelNumberField | "id"> = {
  id: "id",
  context_window: "context_window",
  max_tokens: "max_tokens",
  "price.input": "price_input",
  "price.output": "price_output",
  "price.cache_read": "price_cache_read",
  "price.cache_write": "price_cache_write",
};

/** Above this many rows a filter box helps find a model in a provider's long list. */
const FILTER_FROM = 8;

interface ModelTableProps {
  rows: Signal<ModelRow[]>;
  /** The server's complaints by row key, then by field. */
  issues: Record<string, Partial<Record<ModelNumberField | "id", string>>>;
}

/** The provider's models: which are offered, with their context size, output limit and prices. */
export function ModelTable({ rows, issues }: ModelTableProps) {
  const filter = useSignal("");
  const newIds = useSignal("");

  const update = (key: string, change: (row: ModelRow) => ModelRow) => {
    rows.value = rows.value.map((row) => (row.key === key ? change(row) : row));
  };
  const addTyped = () => {
    const known = new Set(rows.value.map((row) => row.id));
    const ids = newIds.value
      .split(/[\s,]+/)
      .map((id) => id.trim())
      .filter((id) => id.length > 0 && !known.has(id));
    rows.value = [...rows.value, ...[...new Set(ids)].map((id) => rowFromSpec({ id }, true))];
    newIds.value = "";
  };

  const needle = filter.value.trim().toLowerCase();
  const shown = needle
    ? rows.value.filter((row) => `${row.id} ${row.name ?? ""}`.toLowerCase().includes(needle))
    : rows.value;
  const offered = rows.value.filter((row) => row.offered).length;
  const offerShown = (on: boolean) => {
    const keys = new Set(shown.map((row) => row.key));
    rows.value = rows.value.map((row) => (keys.has(row.key) ? { ...row, offered: on } : row));
  };

  return (
    <fieldset class="model-table" data-testid="provider-models">
      <legend class="field-label">Models</legend>
      <p class="field-hint">
        Tick the models users may pick ({offered} of {rows.value.length} offered). Prices are in USD per
        million tokens; a model without a price is used free of charge in budgets.
      </p>
      {rows.value.length > 0 && (
        <div class="model-table-tools">
          {rows.value.length >= FILTER_FROM && (
            <input
              type="search"
              class="model-filter"
              placeholder="Filter models…"
              aria-label="Filter models"
              value={filter}
              onInput={(event) => {
                filter.value = event.currentTarget.value;
              }}
              data-testid="provider-model-filter"
            />
          )}
          <button
            type="button"
            class="button ghost small"
            onClick={() => offerShown(true)}
            data-testid="provider-model-offer-all"
          >
            {needle ? "Offer the ones shown" : "Offer all"}
          </button>
          <button
            type="button"
            class="button ghost small"
            onClick={() => offerShown(false)}
            data-testid="provider-model-offer-none"
          >
            {needle ? "Offer none of them" : "Offer none"}
          </button>
        </div>
      )}
      {rows.value.length > 0 && (
        <DataTable
          label="Models"
          columns={["Offer", "Model", "Reasons", ...COLUMNS.map((column) => column.heading)]}
          withActions
        >
          {shown.map((row) => (
            <ModelRowView
              key={row.key}
              row={row}
              issues={issues[row.key] ?? {}}
              onChange={(change) => update(row.key, change)}
              onRemove={() => {
                rows.value = rows.value.filter((each) => each.key !== row.key);
              }}
            />
          ))}
        </DataTable>
      )}
      <div class="model-add">
        <input
          type="text"
          placeholder="Add model ids (comma or space separated)"
          aria-label="Model ids to add"
          value={newIds}
          onInput={(event) => {
            newIds.value = event.currentTarget.value;
          }}
          onKeyDown={(event) => {
            if (event.key !== "Enter") return;
            event.preventDefault();
            addTyped();
          }}
          data-testid="provider-model-new"
        />
        <button
          type="button"
          class="button small"
          onClick={addTyped}
          disabled={newIds.value.trim() === ""}
          data-testid="provider-model-add"
        >
          Add
        </button>
      </div>
    </fieldset>
  );
}

interface ModelRowViewProps {
  row: ModelRow;
  issues: Partial<Record<ModelNumberField | "id", string>>;
  onChange: (change: (row: ModelRow) => ModelRow) => void;
  onRemove: () => void;
}

function ModelRowView({ row, issues, onChange, onRemove }: ModelRowViewProps) {
  const name = row.id || "new model";
  return (
    <tr data-testid="provider-model-row" data-model-id={row.id} data-offered={row.offered}>
      <td data-label="Offer">
        <input
          type="checkbox"
          aria-label={`Offer ${name}`}
          checked={row.offered}
          onChange={(event) => {
            const offered = event.currentTarget.checked;
            onChange((each) => ({ ...each, offered }));
          }}
          data-testid="provider-model-offer"
        />
      </td>
      <th scope="row" data-label="Model">
        <span class="mono">{row.id}</span>
        {row.name && row.name !== row.id && <span class="muted small model-table-name">{row.name}</span>}
        {issues.id && <span class="field-error">{issues.id}</span>}
      </th>
      <td data-label="Reasons">
        <input
          type="checkbox"
          aria-label={`${name} reasons (offers a thinking level)`}
          checked={row.reasoning ?? false}
          onChange={(event) => {
            const reasoning = event.currentTarget.checked;
            onChange((each) => ({ ...each, reasoning }));
          }}
          data-testid="provider-model-reasoning"
        />
      </td>
      {COLUMNS.map((column) => {
        const issue = issues[column.field];
        return (
          <td key={column.field} data-label={column.heading}>
            <input
              class="model-number"
              type="text"
              inputMode={column.decimal ? "decimal" : "numeric"}
              aria-label={`${name}: ${column.label}`}
              aria-invalid={issue ? true : undefined}
              value={row.values[column.field]}
              onInput={(event) => {
                const value = event.currentTarget.value;
                onChange((each) => ({ ...each, values: { ...each.values, [column.field]: value } }));
              }}
              data-testid={`provider-model-${column.field.replaceAll("_", "-")}`}
            />
            {issue && (
              <span class="field-error" data-testid="field-error">
                {issue}
              </span>
            )}
          </td>
        );
      })}
      <td class="row-actions">
        <button
          type="button"
          class="button ghost small"
          onClick={onRemove}
          aria-label={`Remove ${name}`}
          data-testid="provider-model-remove"
        >
          Remove
        </button>
      </td>
    </tr>
  );
}
