import type { AgentEvent, Message, SessionState } from "../../../../src/protocol/index.ts";
import {
  MessagesResult,
  NoData,
  SessionCreateResult,
  StateResult,
  SubscribeResult,
} from "../../lib/command-results.ts";
import { errorText } from "../../lib/errors.ts";
import type { MuxClient } from "../../lib/mux-client.ts";
import { HISTORY_PAGE } from "./older-messages.ts";

/** Live events held while history is being refetched; past this, refetch once more instead. */
const MAX_BUFFERED_EVENTS = 5000;

/** What the stream hands to its conversation view. */
export interface ChatStreamHost {
  /** `null` until known; a closed session has no live stream to resume. */
  state(): SessionState | null;
  /** A fresh `get_state` and the newest history replace what the view shows. */
  reset(state: StateResult, history: readonly Message[]): void;
  /** An event in order, seen once. */
  apply(event: AgentEvent): void;
  /** A refetch nobody awaits failed. */
  failed(text: string): void;
}

/**
 * One session's event stream as a view follows it (PROTOCOL.md §1.1, §2.6): events with `seq` ≤ the
 * last seen are dropped; a reconnect re-subscribes after that seq; `stream.resync_required`, a new
 * epoch or a fresh open refetch `get_state` + the newest page of `get_messages` (older pages are
 * OlderMessages'), holding live events meanwhile.
 */
export class ChatStream {
  private lastSeq = 0;
  private epoch: string | null = null;
  private isSubscribed = false;
  private isDisposed = false;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private buffering = false;
  private buffered: AgentEvent[] = [];

  constructor(
    private readonly client: MuxClient,
    private readonly sessionId: string,
    private readonly cwd: string,
    private readonly host: ChatStreamHost,
  ) {}

  get subscribed(): boolean {
    return this.isSubscribed;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** `session.create` for a new or stopped session; its new stream counts from seq 1. */
  async start(): Promise<void> {
    const result = await this.client.command(
      { cmd: "session.create", session_id: this.sessionId, config: { harness: "pi", cwd: this.cwd } },
      SessionCreateResult,
    );
    this.isSubscribed = true;
    this.epoch = result.epoch;
    // Someone else had it running: what happened there is not in this view yet.
    if (result.already_running) await this.resync();
  }

  async subscribe(): Promise<void> {
    // A closed session has no live stream: a future one starts over at seq 1, so ask for live events only.
    const afterSeq = this.host.state() === "closed" ? {} : { after_seq: this.lastSeq };
    const result = await this.client.command(
      { cmd: "session.subscribe", session_id: this.sessionId, ...afterSeq },
      SubscribeResult,
    );
    this.isSubscribed = true;
    const epochChanged = this.epoch !== null && result.epoch !== this.epoch;
    if (result.resync_required || epochChanged) await this.resync();
    else this.epoch = result.epoch;
  }

  resync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = this.runResync().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  receive(event: AgentEvent): void {
    if (this.isDisposed) return;
    if (event.event === "stream.resync_required") {
      this.resync().catch((error) => this.host.failed(`Could not catch up: ${errorText(error)}`));
      return;
    }
    if (this.buffering) {
      if (this.buffered.length < MAX_BUFFERED_EVENTS) this.buffered.push(event);
      else this.syncAgain = true;
      return;
    }
    // A coalesced delta (`seq_from` set, PROTOCOL.md §2.4) stands for seq_from..seq: its gap is no loss.
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.host.apply(event);
  }

  /** `session.closed`: a resumed process starts a new stream at seq 1 with a new epoch. */
  ended(): void {
    this.isSubscribed = false;
    this.lastSeq = 0;
    this.epoch = null;
  }

  dispose(): void {
    this.isDisposed = true;
    if (this.isSubscribed) {
      this.client
        .command({ cmd: "session.unsubscribe", session_id: this.sessionId }, NoData)
        .catch(() => undefined);
    }
  }

  /**
   * State before history: whatever happens between the two calls is replayed (seq > state.seq) and
   * lands on messages that are already there (same ids live and in history), instead of being lost.
   */
  private async runResync(): Promise<void> {
    do {
      this.syncAgain = false;
      this.buffering = true;
      this.buffered = [];
      try {
        const state = await this.client.command(
          { cmd: "get_state", session_id: this.sessionId },
          StateResult,
        );
        const history = await this.client.command(
          { cmd: "get_messages", session_id: this.sessionId, limit: HISTORY_PAGE },
          MessagesResult,
        );
        this.host.reset(state, history.messages);
        this.epoch = state.epoch;
        this.lastSeq = state.session_state === "closed" ? 0 : state.seq;
      } finally {
        this.buffering = false;
      }
      const held = this.buffered;
      this.buffered = [];
      for (const event of held) this.receive(event);
    } while (this.syncAgain && !this.isDisposed);
  }
}
