import { effect, type ReadonlySignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { renderMarkdown } from "../../lib/markdown.ts";

/**
 * Streaming markdown. The component renders once; text deltas only reschedule an innerHTML update,
 * at most one per animation frame, so a fast stream costs one parse per frame for this part alone.
 */
export function MarkdownText({ text }: { text: ReadonlySignal<string> }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    let rendered: string | null = null;
    let frame = 0;
    const flush = () => {
      frame = 0;
      const value = text.peek();
      if (value === rendered) return;
      rendered = value;
      element.innerHTML = renderMarkdown(value);
    };
    flush();
    const dispose = effect(() => {
      text.value;
      if (frame === 0 && text.peek() !== rendered) frame = requestAnimationFrame(flush);
    });
    return () => {
      dispose();
      cancelAnimationFrame(frame);
    };
  }, [text]);
  return <div class="markdown" ref={ref} />;
}
