import type { ComponentChildren } from "preact";

interface IconButtonProps {
  /** What the button does, for screen readers; also the tooltip unless `title` says more. */
  label: string;
  title?: string;
  onClick: () => void;
  testId?: string;
  /** The icon. */
  children: ComponentChildren;
}

/** A toolbar button that shows only an icon. */
export function IconButton({ label, title, onClick, testId, children }: IconButtonProps) {
  return (
    <button
      type="button"
      class="icon-button"
      aria-label={label}
      title={title ?? label}
      onClick={onClick}
      data-testid={testId}
    >
      {children}
    </button>
  );
}
