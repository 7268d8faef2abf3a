import { useEffect, useRef, useState } from "preact/hooks";
import { copyText } from "../../lib/code/clipboard.ts";
import { CopyIcon } from "../common/icons.tsx";

/** How long "Copied" stays on screen. */
const FEEDBACK_MS = 1500;

/**
 * Copies `text()` (read at the click, so streaming text is copied as it is then) and says so next
 * to the button; the status is a live region, so screen readers hear it too.
 */
export function CopyButton({
  text,
  label,
  testId,
  withText = false,
}: {
  text: () => string;
  /** What is copied, for the accessible name ("Copy the message"). */
  label: string;
  testId: string;
  /** Shows "Copy" beside the icon (where no message row explains the icon). */
  withText?: boolean;
}) {
  const [result, setResult] = useState<"copied" | "failed" | null>(null);
  const timer = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async () => {
    const copied = await copyText(text());
    setResult(copied ? "copied" : "failed");
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setResult(null), FEEDBACK_MS);
  };
  return (
    <>
      <button
        type="button"
        class={withText ? "copy-button with-text" : "icon-button small"}
        onClick={() => void copy()}
        title={label}
        aria-label={label}
        data-testid={testId}
      >
        <CopyIcon size={14} />
        {withText && <span>Copy</span>}
      </button>
      <span class="copy-status" role="status" data-testid={`${testId}-status`}>
        {result === "copied" ? "Copied" : result === "failed" ? "Copy failed" : ""}
      </span>
    </>
  );
}
