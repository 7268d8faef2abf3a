import { signal } from "@preact/signals";
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ChatSession } from "../../state/chat/chat-session.ts";
import type { MessageModel } from "../../state/chat/message-model.ts";
import type { OlderLoad } from "../../state/chat/older-messages.ts";

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
 * costs nothing. Each step keeps the message being read where it was on screen. The window starts
 * at a message's idx, not at a position: older pages of history are added before the messages held.
 */
export class MessageWindow {
  /** idx of the first rendered message; null until the conversation has messages. */
  private readonly fixedStart = signal<number | null>(null);
  /** The message at the top before a step, and where (px from the view's top) it is to stay. */
  private anchor: { element: Element; top: number } | null = null;
  private releaseHold: (() => void) | null = null;

  /** Position in `messages` of the first rendered one. */
  start(messages: readonly MessageModel[]): number {
    return positionOf(messages, this.fixedStart.value);
  }

  /** Fixes the start once messages are there, so messages that arrive later add to the end. */
  settle(messages: readonly MessageModel[]): void {
    if (this.fixedStart.peek() !== null || messages.length === 0) return;
    const first = messages[messages.length - INITIAL_WINDOW];
    // A prompt still on its way has no idx yet; a short conversation is rendered from its start.
    this.fixedStart.value = first && !first.optimistic.peek() ? first.idx : 0;
  }

  /**
   * One step further back, keeping `anchor` (the first rendered message) still on screen. False
   * when every message held is rendered: older ones must be fetched first.
   */
  revealEarlier(
    messages: readonly MessageModel[],
    anchor: Element | null,
    scroller: HTMLElement | null,
  ): boolean {
    const start = positionOf(messages, this.fixedStart.peek());
    const first = messages[Math.max(0, start - REVEAL_STEP)];
    if (start === 0 || !first) return false;
    this.anchor = anchor && scroller ? { element: anchor, top: offsetIn(anchor, scroller) } : null;
    this.fixedStart.value = first.idx;
    return true;
  }

  /** Renders back to message `idx` (a search hit there must be on the page to scroll to); true if it had to. */
  revealTo(idx: number): boolean {
    const start = this.fixedStart.peek();
    if (start === null || idx >= start) return false;
    this.fixedStart.value = idx;
    return true;
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

/** Without a fixed start, the last INITIAL_WINDOW messages. */
function positionOf(messages: readonly MessageModel[], fixed: number | null): number {
  if (fixed === null) return Math.max(0, messages.length - INITIAL_WINDOW);
  const position = messages.findIndex((m) => m.idx >= fixed);
  return position < 0 ? messages.length : position;
}

function offsetIn(element: Element, scroller: HTMLElement): number {
  return element.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
}

/**
 * Stands above the rendered messages while older ones are left out: a step is taken when it comes
 * within REVEAL_MARGIN_PX of the view, or when its button is used (keyboard, or a jump to the top).
 * At the first message held, the step fetches the page before it; a failed fetch offers a retry.
 */
export function EarlierMessages({
  chat,
  messageWindow,
  start,
  scrollRef,
}: {
  chat: ChatSession;
  messageWindow: MessageWindow;
  start: number;
  scrollRef: RefObject<HTMLElement | null>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const fetching: OlderLoad = start === 0 ? chat.older.load.value : { status: "idle" };
  const reveal = () => {
    const anchor = ref.current?.nextElementSibling ?? null;
    if (!messageWindow.revealEarlier(chat.messages.peek(), anchor, scrollRef.current))
      void chat.older.loadPage();
  };
  const hidden = start + chat.olderCount.value;
  // Observed anew after each step (and each page fetched, which moves `start`): if it is still
  // near the view, the next step follows at once.
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
    <div
      ref={ref}
      class="earlier-messages"
      data-testid="earlier-messages"
      data-hidden-count={hidden}
      data-loading={fetching.status === "loading"}
    >
      {fetching.status === "failed" && (
        <span class="muted" role="alert">
          {fetching.error}
        </span>
      )}
      <button type="button" class="button small" onClick={reveal} aria-busy={fetching.status === "loading"}>
        {fetching.status === "loading"
          ? "Loading earlier messages…"
          : fetching.status === "failed"
            ? "Try again"
            : `Show earlier messages (${hidden} more)`}
      </button>
    </div>
  );
}
