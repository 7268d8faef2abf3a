import type { CompletionItem } from "./completion-token.ts";

export const completionOptionId = (listId: string, index: number) => `${listId}-option-${index}`;

/**
 * The composer's completion popup: a listbox the textarea controls (focus stays in the textarea,
 * the active option is its aria-activedescendant). A click chooses without taking the focus.
 */
export function CompletionList({
  id,
  label,
  items,
  active,
  status,
  onChoose,
  onHover,
}: {
  id: string;
  label: string;
  items: readonly CompletionItem[];
  active: number;
  status: string | null;
  onChoose: (item: CompletionItem) => void;
  onHover: (index: number) => void;
}) {
  return (
    <div class="completion-popup" data-testid="completion-popup">
      {status !== null && (
        <p class="completion-status" role="status" data-testid="completion-status">
          {status}
        </p>
      )}
      <div class="completion-list" role="listbox" id={id} aria-label={label} data-testid="completion-list">
        {items.map((item, index) => (
          <div
            key={item.id}
            id={completionOptionId(id, index)}
            role="option"
            tabIndex={-1}
            aria-selected={index === active}
            class="completion-option"
            data-testid="completion-option"
            data-value={item.label}
            onMouseDown={(event) => {
              event.preventDefault();
              onChoose(item);
            }}
            onMouseEnter={() => onHover(index)}
          >
            <span class="completion-label">{item.label}</span>
            {item.badge && <span class="completion-badge">{item.badge}</span>}
            {item.detail && <span class="completion-detail">{item.detail}</span>}
          </div>
        ))}
      </div>
    </div>
  );
}
