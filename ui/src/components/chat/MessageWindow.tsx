import { signal } from "@preact/signals";
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** Messages rendered when a conversation opens: its end, several screens' worth. */
export const INITIAL_WINDOW = 40;
/** Messages added above each time the reader nears the top of what is rendered. */
export const REVEAL_STEP = 20;
/** How far ahead (px) of the rendered top the next step starts: about a screen before it shows. */
const REVEAL_MARGIN_PX = 1500;
/**
 * How long after a step the anchor is held: the new messages fill in after the first paint (their
 * markdown renders in effects) and grow, and the browser's own anchoring may pick one of them.
 */
const ANCHOR_HOLD_MS = 800;

/**
 * Which messages of a conversation are rendered. A long session opens at its end with only the
 * last INITIAL_WINDOW messages in the DOM (rendering all 2,000 of one froze the tab for seconds);
 * older ones are rendered in steps as the reader scrolls up, and stay, so scrolling back down
 * costs nothing. Each step keeps the message being read where it was on screen.
 */
export class MessageWindow {
  /** Index of the first rendered message; null until the conversation has messages. */
  private readonly fixedStart = signal<number | null>(null);
  /** The message at the top before a step, and where (px from the view's top) it is to stay. */
  private anchor: { element: Element; top: number } | null = null;
  private releaseHold: (() => void) | null = null;

  /** First rendered index for a conversation of `total` messages. */
  start(total: number): number {
    const fixed = this.fixedStart.value;
    return fixed === null ? Math.max(0, total - INITIAL_WINDOW) : Math.min(fixed, total);
  }

  /** Fixes the start once messages are there, so messages that arrive later add to the end. */
  settle(total: number): void {
    if (this.fixedStart.peek() === null && total > 0)
      this.fixedStart.value = Math.max(0, total - INITIAL_WINDOW);
  }

  /** One step further back, keeping `anchor` (the first rendered message) still on screen. */
  revealEarlier(anchor: Element | null, scroller: HTMLElement | null): void {
    const start = this.fixedStart.peek();
    if (start === null || start === 0) return;
    this.anchor = anchor && scroller ? { element: anchor, top: offsetIn(anchor, scroller) } : null;
    this.fixedStart.value = Math.max(0, start - REVEAL_STEP);
  }

  /** Renders back to message `index` (a search hit there must be on the page to scroll to). */
  revealTo(index: number): void {
    const start = this.fixedStart.peek();
    if (start !== null && index < start) this.fixedStart.value = Math.max(0, index);
  }

  /**
   * After a step rendered, before paint: scrolls by as much as the anchor moved, then holds it there
   * for ANCHOR_HOLD_MS while the new messages grow. The reader's own scrolling moves where it is held.
   */
  restoreAnchor(scroller: HTMLElement | null): void {
    const anchor = this.anchor;
    if (!anchor || !scroller) return;
    this.releaseHold?.();
    const correct = () => {
      if (!anchor.element.isConnected) return;
      const drift = offsetIn(anchor.element, scroller) - anchor.top;
      if (Math.abs(drift) >= 0.5) scroller.scrollTop += drift;
    };
    correct();
    // Resize callbacks come after layout and before paint: a correction never shows.
    const observer = new ResizeObserver(correct);
    for (const child of scroller.children) observer.observe(child);
    const follow = () => {
      anchor.top = offsetIn(anchor.element, scroller);
    };
    scroller.addEventListener("scroll", follow, { passive: true });
    const timer = setTimeout(() => this.releaseHold?.(), ANCHOR_HOLD_MS);
    this.releaseHold = () => {
      clearTimeout(timer);
      observer.disconnect();
      scroller.removeEventListener("scroll", follow);
      if (this.anchor === anchor) this.anchor = null;
      this.releaseHold = null;
    };
  }

  /** The conversation's view goes away. */
  dispose(): void {
    this.releaseHold?.();
  }
}

function offsetIn(element: Element, scroller: HTMLElement): number {
  return element.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
}

/**
 * Stands above the rendered messages while older ones are left out: a step is taken when it comes
 * within REVEAL_MARGIN_PX of the view, or when its button is used (keyboard, or a jump to the top).
 */
export function EarlierMessages({
  messageWindow,
  start,
  scrollRef,
}: {
  messageWindow: MessageWindow;
  start: number;
  scrollRef: RefObject<HTMLElement | null>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const reveal = () =>
    messageWindow.revealEarlier(ref.current?.nextElementSibling ?? null, scrollRef.current);
  // Observed anew after each step: if it is still near the view, the next step follows at once.
  // `start` re-arms the observer.
  useEffect(() => {
    const element = ref.current;
    const root = scrollRef.current;
    if (!element || !root) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) reveal();
      },
      { root, rootMargin: `${REVEAL_MARGIN_PX}px 0px 0px 0px` },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [start]);
  return (
    <div ref={ref} class="earlier-messages" data-testid="earlier-messages" data-hidden-count={start}>
      <button type="button" class="button small" onClick={reveal}>
        Show earlier messages ({start} more)
      </button>
    </div>
  );
}
