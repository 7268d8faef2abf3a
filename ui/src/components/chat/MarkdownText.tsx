import { effect, type ReadonlySignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { enhanceCodeBlocks } from "../../lib/code/code-blocks.ts";
import { REMOTE_IMAGE_ATTR, renderMarkdown } from "../../lib/markdown.ts";

/**
 * Shows each image from another origin as a link that opens it in a tab of its own: the page's
 * policy (`img-src 'self' data: blob:`) lets nothing from another origin load inside Oqto, so the
 * user's click is what sends the request, with no referrer and no opener.
 */
function gateRemoteImages(element: HTMLElement): void {
  for (const image of element.querySelectorAll<HTMLImageElement>(`img[${REMOTE_IMAGE_ATTR}]`)) {
    const src = image.getAttribute(REMOTE_IMAGE_ATTR) ?? "";
    const link = document.createElement("a");
    link.className = "button ghost remote-image";
    link.dataset.testid = "remote-image";
    link.href = src;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.referrerPolicy = "no-referrer";
    link.textContent = `Open image${image.alt ? ` “${image.alt}”` : ""} from ${link.host || src}`;
    link.title = src;
    image.replaceWith(link);
  }
}

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
      gateRemoteImages(element);
      enhanceCodeBlocks(element);
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
