import type { Signal } from "@preact/signals";
import type { RefObject } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { errorText } from "../../../lib/errors.ts";
import type { ChatSession } from "../../../state/chat/chat-session.ts";
import { mux } from "../../../state/connection.ts";
import { fileBrowserFor } from "../../../state/files/file-browser.ts";
import { CommandSource, PathSource } from "./completion-sources.ts";
import { applyCompletion, type CompletionItem, tokenAt } from "./completion-token.ts";

export interface Completion {
  open: boolean;
  kind: "command" | "path" | null;
  items: readonly CompletionItem[];
  active: number;
  status: string | null;
  setActive: (index: number) => void;
  choose: (item: CompletionItem) => void;
  /** The caret moved or the text changed: read where the caret is now. */
  track: () => void;
  /** Handles the popup's keys; true when the key was used. */
  onKeyDown: (event: KeyboardEvent) => boolean;
}

/**
 * `/` and `@` completion for the composer: the token at the caret picks the source, the list follows
 * the typing, Escape closes it until another token begins.
 */
export function useCompletion(
  chat: ChatSession,
  draft: Signal<string>,
  textarea: RefObject<HTMLTextAreaElement | null>,
): Completion {
  const sources = useMemo(
    () => ({
      command: new CommandSource(() => chat.listCommands()),
      path: new PathSource(fileBrowserFor(mux, chat.workspace).client),
    }),
    [chat],
  );
  const [caret, setCaret] = useState(0);
  const [items, setItems] = useState<readonly CompletionItem[]>([]);
  const [active, setActive] = useState(0);
  const [status, setStatus] = useState<string | null>(null);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const [pendingCaret, setPendingCaret] = useState<number | null>(null);

  const token = tokenAt(draft.value, Math.min(caret, draft.value.length));
  const place = token ? `${token.kind}:${token.start}` : null;
  const open = token !== null && place !== dismissed;
  const query = open && token ? `${place}:${token.query}` : null;

  // Escape holds only for the token it closed.
  useEffect(() => {
    if (place === null) setDismissed(null);
  }, [place]);

  // A new completion reads the workspace again.
  useEffect(() => {
    if (open && token?.kind === "path") sources.path.reset();
  }, [open ? place : null]);

  useEffect(() => {
    if (!open || !token) {
      setItems([]);
      setStatus(null);
      return;
    }
    let stale = false;
    const source = token.kind === "command" ? sources.command : sources.path;
    source.items(token.query).then(
      (list) => {
        if (stale) return;
        setItems(list);
        setActive(0);
        setStatus(
          list.length > 0 ? null : token.kind === "command" ? "No matching command" : "No matching path",
        );
      },
      (error) => {
        if (stale) return;
        setItems([]);
        setStatus(`Could not list ${token.kind === "command" ? "commands" : "files"}: ${errorText(error)}`);
      },
    );
    return () => {
      stale = true;
    };
  }, [query]);

  // The caret goes after an inserted completion once the new text is rendered.
  useEffect(() => {
    const element = textarea.current;
    if (pendingCaret === null || !element) return;
    element.setSelectionRange(pendingCaret, pendingCaret);
    setCaret(pendingCaret);
    setPendingCaret(null);
  }, [pendingCaret]);

  const track = () => {
    const element = textarea.current;
    if (element) setCaret(element.selectionStart);
  };

  const choose = (item: CompletionItem) => {
    if (!token) return;
    const next = applyCompletion(draft.value, token, item);
    draft.value = next.text;
    setPendingCaret(next.caret);
    textarea.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent): boolean => {
    if (!open || event.isComposing) return false;
    if (event.key === "Escape") {
      setDismissed(place);
      return true;
    }
    if (items.length === 0) return false;
    switch (event.key) {
      case "ArrowDown":
        setActive((active + 1) % items.length);
        return true;
      case "ArrowUp":
        setActive((active - 1 + items.length) % items.length);
        return true;
      case "Tab":
      case "Enter": {
        if (event.shiftKey || event.altKey) return false;
        const item = items[active];
        if (item) choose(item);
        return true;
      }
      default:
        return false;
    }
  };

  return {
    open: open && (items.length > 0 || status !== null),
    kind: token?.kind ?? null,
    items,
    active,
    status,
    setActive,
    choose,
    track,
    onKeyDown,
  };
}
