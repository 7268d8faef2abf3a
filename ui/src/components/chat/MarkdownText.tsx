import { effect, type ReadonlySignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { REMOTE_IMAGE_ATTR, renderMarkdown } from "../../lib/markdown.ts";

/**
 * Shows each image from another origin as a button until the user loads it; addresses loaded
 * once stay loaded across the re-renders of a streaming answer.
 */
function gateRemoteImages(element: HTMLElement, loaded: ReadonlySet<string>): void {
  for (const image of element.querySelectorAll<HTMLImageElement>(`img[${REMOTE_IMAGE_ATTR}]`)) {
    const src = image.getAttribute(REMOTE_IMAGE_ATTR) ?? "";
    if (loaded.has(src)) {
      image.src = src;
      continue;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button ghost remote-image";
    button.dataset.testid = "remote-image";
    button.dataset.src = src;
    let host = src;
    try {
      host = new URL(src, location.href).host;
    } catch {
      // shown as written
    }
    button.textContent = `Load image${image.alt ? ` “${image.alt}”` : ""} from ${host}`;
    button.title = src;
    image.replaceWith(button);
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
    const loaded = new Set<string>();
    let rendered: string | null = null;
    let frame = 0;
    const render = (value: string) => {
      rendered = value;
      element.innerHTML = renderMarkdown(value);
      gateRemoteImages(element, loaded);
    };
    const flush = () => {
      frame = 0;
      const value = text.peek();
      if (value !== rendered) render(value);
    };
    const onClick = (event: MouseEvent) => {
      const button = (event.target as Element | null)?.closest<HTMLButtonElement>("button.remote-image");
      if (!button?.dataset.src || !element.contains(button)) return;
      loaded.add(button.dataset.src);
      render(text.peek());
    };
    element.addEventListener("click", onClick);
    flush();
    const dispose = effect(() => {
      text.value;
      if (frame === 0 && text.peek() !== rendered) frame = requestAnimationFrame(flush);
    });
    return () => {
      dispose();
      cancelAnimationFrame(frame);
      element.removeEventListener("click", onClick);
    };
  }, [text]);
  return <div class="markdown" ref={ref} />;
}
