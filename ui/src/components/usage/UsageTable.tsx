import type { UsageReport, UsageRow } from "../../../../src/protocol/index.ts";
import { DataTable } from "../common/DataTable.tsx";
import { formatCount, formatUsd } from "../common/format.ts";

interface UsageTableProps {
  /** The table's accessible name. */
  label: string;
  /** Heading of the first column: "User", "Model". */
  keyHeading: string;
  report: UsageReport;
  testId: string;
  /** The keys are ids (models), set in the code font. */
  mono?: boolean;
}

const COLUMNS = ["Requests", "Input tokens", "Output tokens", "Cache read", "Cache write", "Cost"];

/** One report's rows, the most expensive first, and its total. */
export function UsageTable({ label, keyHeading, report, testId, mono = false }: UsageTableProps) {
  if (report.rows.length === 0) return <p class="muted empty-note">No LLM requests in this period.</p>;
  const rows = [...report.rows].sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests);
  return (
    <DataTable label={label} columns={[keyHeading, ...COLUMNS]}>
      {rows.map((row) => (
        <UsageLine key={row.key} row={row} name={row.label ?? row.key} testId={testId} mono={mono} />
      ))}
      {rows.length > 1 && (
        <UsageLine row={{ ...report.total, key: "total" }} name="Total" testId={`${testId}-total`} total />
      )}
    </DataTable>
  );
}

function UsageLine({
  row,
  name,
  testId,
  total = false,
  mono = false,
}: {
  row: UsageRow;
  name: string;
  testId: string;
  total?: boolean;
  mono?: boolean;
}) {
  return (
    <tr data-testid={testId} data-key={row.key} class={total ? "total-row" : undefined}>
      <th scope="row" data-label="Name" class={mono ? "mono" : undefined}>
        {name}
      </th>
      <td data-label="Requests" data-testid="usage-requests">
        {formatCount(row.requests)}
      </td>
      <td data-label="Input tokens">{formatCount(row.input_tokens)}</td>
      <td data-label="Output tokens">{formatCount(row.output_tokens)}</td>
      <td data-label="Cache read">{formatCount(row.cache_read_tokens)}</td>
      <td data-label="Cache write">{formatCount(row.cache_write_tokens)}</td>
      <td data-label="Cost" data-testid="usage-cost" data-usd={row.cost_usd}>
        {formatUsd(row.cost_usd)}
      </td>
    </tr>
  );
}
