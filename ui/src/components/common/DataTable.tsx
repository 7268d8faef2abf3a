import type { ComponentChildren } from "preact";

interface DataTableProps {
  /** The table's accessible name. */
  label: string;
  columns: readonly string[];
  /** Adds a last column for each row's buttons, its heading there for screen readers only. */
  withActions?: boolean;
  /** The rows. */
  children: ComponentChildren;
}

/** A table of records that scrolls sideways on its own when it is wider than the page. */
export function DataTable({ label, columns, withActions = false, children }: DataTableProps) {
  return (
    <div class="table-scroll">
      <table class="data-table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
            {withActions && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
