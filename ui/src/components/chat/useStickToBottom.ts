import { useSignal } from "@preact/signals";
import { useCallback, useEffect, useRef } from "preact/hooks";

/** Within this many pixels of the end counts as "at the bottom". */
const BOTTOM_SLACK_PX = 48;

/**
 * Follows new content only while the user is at the bottom: reading older messages during a stream
 * is never interrupted. `scrollToBottom` re-attaches (after sending, or from the "latest" button).
 */
export function useStickToBottom() {
  const scrollRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const atBottom = useSignal(true);

  useEffect(() => {
    const scroller = scrollRef.current;
    const content = contentRef.current;
    if (!scroller || !content) return;
    let lastTop = scroller.scrollTop;
    const onScroll = () => {
      const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight <= BOTTOM_SLACK_PX;
      // Only a move up leaves the end: content that grew between our own scroll to the end and
      // its (later) scroll event is followed by the observer below.
      if (atEnd) stick.current = true;
      else if (scroller.scrollTop < lastTop) stick.current = false;
      lastTop = scroller.scrollTop;
      atBottom.value = stick.current;
    };
    const observer = new ResizeObserver(() => {
      if (stick.current) scroller.scrollTop = scroller.scrollHeight;
    });
    observer.observe(content);
    scroller.addEventListener("scroll", onScroll, { passive: true });
    scroller.scrollTop = scroller.scrollHeight;
    return () => {
      observer.disconnect();
      scroller.removeEventListener("scroll", onScroll);
    };
  }, []);

  const scrollToBottom = useCallback(() => {
    const scroller = scrollRef.current;
    stick.current = true;
    atBottom.value = true;
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }, []);

  /** Stops following new content (a jump to an older message must stay where it landed). */
  const detach = useCallback(() => {
    stick.current = false;
    atBottom.value = false;
  }, []);

  return { scrollRef, contentRef, atBottom, scrollToBottom, detach };
}
