import type { ComponentChildren } from "preact";

interface RowActionButtonProps {
  /** Names the row it acts on, since the visible text ("Delete") alone does not. */
  label: string;
  onClick: () => void;
  disabled?: boolean;
  testId: string;
  children: ComponentChildren;
}

/** A quiet, small button in a table row's actions cell. */
export function RowActionButton({ label, onClick, disabled, testId, children }: RowActionButtonProps) {
  return (
    <button
      type="button"
      class="button ghost small"
      disabled={disabled}
      onClick={onClick}
      aria-label={label}
      data-testid={testId}
    >
      {children}
    </button>
  );
}
