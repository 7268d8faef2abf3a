import { MUX_EVENT_PREFIX, peekEventLine, runnerLineToMuxFrame } from "../../protocol/index.ts";
import type { MuxConnection } from "./mux-connection.ts";

/** The runner subscription of a session ends this long after its last socket left (PROTOCOL.md §2.6). */
export const RUNNER_UNSUBSCRIBE_DELAY_MS = 30_000;

export interface SessionHubOptions {
  /** Ends the runner-side subscription of a session nobody watches any more. */
  unsubscribeRunner: (sessionId: string) => void;
  /** A stream ended (`session.closed`): a re-bound one moves its sockets to the next session. */
  onClosed: (sessionId: string, line: string) => void;
  /** A turn opened (`agent.working`) or ended (`agent.idle`, `session.closed`, interrupted): admission counts them. */
  onTurn?: (sessionId: string, open: boolean) => void;
  /**
   * Whether a session still needs its runner subscription though no socket watches it (a turn in
   * flight: only its event stream tells serve that it ended). Its unsubscribe then waits.
   */
  keepRunnerSubscription?: (sessionId: string) => boolean;
}

/**
 * Routes runner event lines to the sockets subscribed to their session. This is the relay
 * hot path: the line is never parsed, only its fixed prefix is read and swapped.
 */
export class SessionHub {
  private readonly sockets = new Map<string, Set<MuxConnection>>();
  private readonly lastSeq = new Map<string, number>();
  private readonly epochs = new Map<string, string>();
  private readonly unsubscribeTimers = new Map<string, Timer>();
  /** Sessions whose turn has started and not ended: a runner that dies leaves them to be told. */
  private readonly openTurns = new Set<string>();
  /** Event lines relayed since start (the metrics): a plain increment, nothing more on the hot path. */
  private relayedCount = 0;

  constructor(private readonly options: SessionHubOptions) {}

  get eventsRelayed(): number {
    return this.relayedCount;
  }

  /** The last seq relayed for a session (0 if none): server-made responses carry it. */
  seqOf(sessionId: string): number {
    return this.lastSeq.get(sessionId) ?? 0;
  }

  setSeq(sessionId: string, seq: number): void {
    this.lastSeq.set(sessionId, seq);
  }

  /** The runner stream epoch last reported for a session ("" before the first subscribe). */
  epochOf(sessionId: string): string {
    return this.epochs.get(sessionId) ?? "";
  }

  setEpoch(sessionId: string, epoch: string): void {
    this.epochs.set(sessionId, epoch);
  }

  /** Whether a session's turn has started (`agent.working`) and not ended. */
  hasOpenTurn(sessionId: string): boolean {
    return this.openTurns.has(sessionId);
  }

  /**
   * Makes sure the runner keeps sending this session's events although no socket may watch it: true
   * when serve holds no runner subscription for it (the caller must then subscribe it at the runner);
   * the subscription is then dropped like any unwatched one, once `keepRunnerSubscription` lets it.
   */
  holdRunnerSubscription(sessionId: string): boolean {
    if (this.sockets.has(sessionId) || this.unsubscribeTimers.has(sessionId)) return false;
    this.armUnsubscribe(sessionId);
    return true;
  }

  sessionIds(): string[] {
    return [...this.sockets.keys()];
  }

  socketsOf(sessionId: string): ReadonlySet<MuxConnection> {
    return this.sockets.get(sessionId) ?? new Set();
  }

  attach(sessionId: string, conn: MuxConnection): void {
    clearTimeout(this.unsubscribeTimers.get(sessionId));
    this.unsubscribeTimers.delete(sessionId);
    let set = this.sockets.get(sessionId);
    if (!set) {
      set = new Set();
      this.sockets.set(sessionId, set);
    }
    set.add(conn);
  }

  detach(sessionId: string, conn: MuxConnection): void {
    const set = this.sockets.get(sessionId);
    if (!set?.delete(conn) || set.size > 0) return;
    this.sockets.delete(sessionId);
    this.armUnsubscribe(sessionId);
  }

  private armUnsubscribe(sessionId: string): void {
    const timer = setTimeout(() => {
      this.unsubscribeTimers.delete(sessionId);
      if (this.sockets.has(sessionId)) return;
      if (this.options.keepRunnerSubscription?.(sessionId)) this.armUnsubscribe(sessionId);
      else this.options.unsubscribeRunner(sessionId);
    }, RUNNER_UNSUBSCRIBE_DELAY_MS);
    this.unsubscribeTimers.set(sessionId, timer);
  }

  detachAll(conn: MuxConnection): void {
    for (const sessionId of conn.subscriptions.keys()) this.detach(sessionId, conn);
  }

  /** Relays one runner event line to every subscribed socket (a socket that is behind may queue it). */
  relay(line: string): void {
    const head = peekEventLine(line);
    if (!head) return;
    this.relayedCount++;
    this.lastSeq.set(head.sessionId, head.seq);
    if (head.event === "agent.working") {
      this.openTurns.add(head.sessionId);
      this.options.onTurn?.(head.sessionId, true);
    } else if (head.event === "agent.idle" || head.event === "session.closed") {
      this.openTurns.delete(head.sessionId);
      this.options.onTurn?.(head.sessionId, false);
    }
    const set = this.sockets.get(head.sessionId);
    if (set && set.size > 0) {
      const frame = runnerLineToMuxFrame(line);
      for (const conn of set) conn.deliver(head.sessionId, head.seq, head.event, frame);
    }
    if (head.event === "session.closed") this.options.onClosed(head.sessionId, line);
  }

  /**
   * The runner of these sessions went away mid-turn: their sockets get `agent.error` and
   * `agent.idle` at once instead of waiting for a stream that will not come. They take the next
   * seqs of the dead stream, which no runner will send again (a restarted runner starts a new epoch).
   */
  interruptTurns(affected: (sessionId: string) => boolean, error: string): string[] {
    const interrupted: string[] = [];
    for (const sessionId of [...this.openTurns]) {
      if (!affected(sessionId)) continue;
      this.openTurns.delete(sessionId);
      interrupted.push(sessionId);
      const events = [
        { event: "agent.error", error, recoverable: true, code: "runner_unavailable" },
        { event: "agent.idle" },
      ];
      for (const payload of events) {
        const seq = this.seqOf(sessionId) + 1;
        this.lastSeq.set(sessionId, seq);
        const frame = `${MUX_EVENT_PREFIX}${JSON.stringify({ session_id: sessionId, seq, runner_id: "local", ts: Date.now(), ...payload }).slice(1)}`;
        for (const conn of this.sockets.get(sessionId) ?? [])
          conn.deliver(sessionId, seq, payload.event, frame);
      }
      this.options.onTurn?.(sessionId, false);
    }
    return interrupted;
  }

  stop(): void {
    for (const timer of this.unsubscribeTimers.values()) clearTimeout(timer);
    this.unsubscribeTimers.clear();
  }
}
