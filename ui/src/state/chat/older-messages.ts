import { signal } from "@preact/signals";
import { MessagesResult } from "../../lib/command-results.ts";
import { errorText } from "../../lib/errors.ts";
import type { MuxClient } from "../../lib/mux-client.ts";
import type { ChatMessages } from "./chat-messages.ts";

/**
 * Messages asked for at a time: the newest when a conversation opens, then each page before them.
 * Enough for the rendered window and several of its steps back; opening a 2,000-message session
 * whole cost the server's reply and a 0.5 s parse on the main thread.
 */
export const HISTORY_PAGE = 150;

export type OlderLoad = { status: "idle" } | { status: "loading" } | { status: "failed"; error: string };

/**
 * Fetches a conversation's older messages a page at a time (`get_messages` with `before_idx`), as
 * the reader scrolls back or a search hit needs one, and adds them before those held.
 */
export class OlderMessages {
  readonly load = signal<OlderLoad>({ status: "idle" });
  private loading: Promise<void> | null = null;
  /** The oldest idx asked for while a load runs: a search hit may reach further than a scroll. */
  private target = Number.MAX_SAFE_INTEGER;

  constructor(
    private readonly client: MuxClient,
    private readonly sessionId: string,
    private readonly store: ChatMessages,
  ) {}

  /** The page before the first message held. */
  loadPage(): Promise<void> {
    return this.loadTo(this.store.olderCount.peek() - 1);
  }

  /** Pages back until message `idx` is held. A failure is shown in `load`, with nothing lost. */
  loadTo(idx: number): Promise<void> {
    this.target = Math.min(this.target, Math.max(0, idx));
    this.loading ??= this.run().finally(() => {
      this.loading = null;
      this.target = Number.MAX_SAFE_INTEGER;
    });
    return this.loading;
  }

  private async run(): Promise<void> {
    this.load.value = { status: "loading" };
    try {
      // Each page is a reply (and a parse) of its own: the main thread is never held for long.
      while (this.store.olderCount.peek() > this.target) {
        const before = this.store.olderCount.peek();
        const page = await this.client.command(
          { cmd: "get_messages", session_id: this.sessionId, limit: HISTORY_PAGE, before_idx: before },
          MessagesResult,
        );
        this.store.prependHistory(page.messages);
        if (this.store.olderCount.peek() >= before) throw new Error("the agent sent no older messages");
      }
      this.load.value = { status: "idle" };
    } catch (error) {
      this.load.value = { status: "failed", error: `Could not load earlier messages: ${errorText(error)}` };
    }
  }
}
