import { PlusIcon } from "./icons.tsx";

interface AddButtonProps {
  /** e.g. "Add user"; shown after a plus. */
  label: string;
  onClick: () => void;
  testId: string;
}

/** The button beside a list page's heading that opens the form for a new entry. */
export function AddButton({ label, onClick, testId }: AddButtonProps) {
  return (
    <button type="button" class="button primary" onClick={onClick} data-testid={testId}>
      <PlusIcon /> {label}
    </button>
  );
}
