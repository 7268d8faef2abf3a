import { useRef } from "preact/hooks";
import { CopyIcon } from "./icons.tsx";

interface CopyFieldProps {
  value: string;
  /** Names the field for screen readers and in the copy message, e.g. "API key". */
  label: string;
  testId: string;
  /** What happened, for the owner's status line (one line can serve several fields). */
  onCopy: (message: string) => void;
}

/** A read-only value with a Copy button, for secrets and links shown once. */
export function CopyField({ value, label, testId, onCopy }: CopyFieldProps) {
  const input = useRef<HTMLInputElement>(null);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      onCopy(`${label} copied to the clipboard.`);
    } catch {
      // The clipboard API needs a secure context and the browser's consent; selecting still works.
      input.current?.select();
      onCopy("The browser did not allow copying: the text is selected, press Ctrl+C (⌘C).");
    }
  };

  return (
    <div class="key-reveal">
      <input
        ref={input}
        class="mono"
        value={value}
        readOnly
        spellcheck={false}
        aria-label={label}
        onFocus={(event) => event.currentTarget.select()}
        data-testid={testId}
      />
      <button
        type="button"
        class="button"
        onClick={() => void copy()}
        aria-label={`Copy ${label}`}
        data-testid={`${testId}-copy`}
      >
        <CopyIcon /> Copy
      </button>
    </div>
  );
}
