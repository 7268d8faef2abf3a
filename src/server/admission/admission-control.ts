import {
  type AdmissionLeaveReason,
  type Command,
  type CommandOf,
  type ErrorCode,
  ProtocolError,
} from "../../protocol/index.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { SessionHub } from "../mux/session-hub.ts";
import { AdmissionQueue } from "./admission-queue.ts";

type MessageCommand = CommandOf<"prompt" | "steer" | "follow_up">;

/** What a queued session holds: its user and the messages to send, in order, once admitted. */
interface Waiting {
  user: MuxUser;
  commands: MessageCommand[];
  clientIds: Set<string>;
}

/** What the agent channel does with one command (AdmissionControl.gate). */
export type Gate =
  /** Forward it. `started`: it opens a turn that now counts as generating; report its outcome with `settle`. */
  | { kind: "forward"; started: boolean }
  /** Answered here (queued, or left the queue): reply success with this data, do not forward. */
  | { kind: "answer"; data: Record<string, unknown> }
  /** The session's queued turn is being sent to its runner: forward once that is done. */
  | { kind: "after"; ready: Promise<void> };

export interface AdmissionControlOptions {
  /** Concurrently generating sessions (0 = unlimited). */
  limit: number;
  hub: SessionHub;
  /** Sends a command to its session's runner as `user` (keeping serve subscribed to its events); the canonical response. */
  forward: (user: MuxUser, command: Command) => Promise<Record<string, unknown>>;
  log: (message: string) => void;
  now?: () => number;
}

const MESSAGE_CMDS: ReadonlySet<string> = new Set(["prompt", "steer", "follow_up"]);
/** Commands a queued session refuses: they need an idle session that stays idle (the queued turn would follow them). */
const REFUSED_WHILE_QUEUED: ReadonlySet<string> = new Set([
  "session.new",
  "session.switch",
  "fork",
  "session.restart",
]);

/**
 * Admission across every user's sessions (serve is the one place that sees them all): a turn starts
 * only while fewer than `limit` sessions generate; otherwise its prompt is answered at once and waits,
 * FIFO, until a generating session goes idle. Queue state is sent as `{channel:"agent", type:"queue"}`
 * frames to the session's sockets (PROTOCOL.md §2.2.1), outside the runner's seq'd stream.
 */
export class AdmissionControl {
  readonly queue: AdmissionQueue<Waiting>;
  /** Admitted sessions whose queued messages are on their way to the runner. */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly options: AdmissionControlOptions) {
    this.queue = new AdmissionQueue(options.limit);
    this.now = options.now ?? Date.now;
  }

  get limit(): number {
    return this.queue.limit;
  }

  /** Decides what happens to a command before it is forwarded. Throws a ProtocolError to refuse it. */
  gate(user: MuxUser, command: Command): Gate {
    const sessionId = command.session_id;
    const starting = this.starting.get(sessionId);
    if (starting && (MESSAGE_CMDS.has(command.cmd) || command.cmd === "abort"))
      return { kind: "after", ready: starting };
    const waiting = this.queue.get(sessionId);
    if (MESSAGE_CMDS.has(command.cmd)) {
      const message = command as MessageCommand;
      if (waiting) return this.addToQueued(waiting.item, message);
      if (this.queue.isGenerating(sessionId) || this.options.hub.hasOpenTurn(sessionId))
        return { kind: "forward", started: false };
      if (this.queue.tryStart(sessionId, this.now())) return { kind: "forward", started: true };
      const position = this.queue.enqueue(
        sessionId,
        { user, commands: [message], clientIds: new Set(message.client_id ? [message.client_id] : []) },
        this.now(),
      );
      this.announce(position - 1);
      return { kind: "answer", data: this.queuedData(sessionId) };
    }
    if (!waiting) return { kind: "forward", started: false };
    if (command.cmd === "abort") {
      this.leave(sessionId, "aborted");
      return { kind: "answer", data: { was_running: false, dequeued: true } };
    }
    if (command.cmd === "session.close" || command.cmd === "session.delete") {
      this.leave(sessionId, "closed");
      return { kind: "forward", started: false };
    }
    if (REFUSED_WHILE_QUEUED.has(command.cmd)) {
      throw new ProtocolError(
        "session_busy",
        `session ${sessionId} is waiting in the admission queue (position ${this.queue.position(sessionId)}); abort leaves it`,
      );
    }
    return { kind: "forward", started: false };
  }

  /** The outcome of a forwarded command that opened a turn: a refused one frees its slot again. */
  settle(sessionId: string, ok: boolean): void {
    if (ok || this.options.hub.hasOpenTurn(sessionId)) return;
    if (this.queue.finish(sessionId)) this.pump();
  }

  /** A turn opened or ended in a runner's stream (session hub). */
  onTurn(sessionId: string, open: boolean): void {
    if (open) this.queue.markGenerating(sessionId, this.now());
    else if (this.queue.finish(sessionId)) this.pump();
  }

  /** A runner went away: none of its sessions generates any more (their pending turns will not report). */
  runnerGone(affected: (sessionId: string) => boolean): void {
    let freed = false;
    for (const { sessionId } of this.queue.generatingSessions()) {
      if (affected(sessionId)) freed = this.queue.finish(sessionId) || freed;
    }
    if (freed) this.pump();
  }

  /** Whether serve must keep receiving a session's events: its turn counts until its `agent.idle`. */
  isActive(sessionId: string): boolean {
    return this.queue.isGenerating(sessionId) || this.starting.has(sessionId);
  }

  /** The current queue frame of a waiting session (for a socket that subscribes to it), else null. */
  frameFor(sessionId: string): string | null {
    const entry = this.queue.get(sessionId);
    const position = this.queue.position(sessionId);
    return entry && position !== null ? this.frame(sessionId, position, entry.queuedAt) : null;
  }

  private addToQueued(waiting: Waiting, message: MessageCommand): Gate {
    const sessionId = message.session_id;
    if (message.client_id && waiting.clientIds.has(message.client_id))
      return { kind: "answer", data: this.queuedData(sessionId) };
    if (message.cmd === "prompt") {
      throw new ProtocolError(
        "session_busy",
        `session ${sessionId} already has a prompt waiting in the admission queue (position ${this.queue.position(sessionId)}); steer or follow_up add to it, abort leaves the queue`,
      );
    }
    waiting.commands.push(message);
    if (message.client_id) waiting.clientIds.add(message.client_id);
    return { kind: "answer", data: this.queuedData(sessionId) };
  }

  private queuedData(sessionId: string): Record<string, unknown> {
    return {
      queued: { position: this.queue.position(sessionId), queued_at: this.queue.get(sessionId)?.queuedAt },
    };
  }

  /** Takes a session out of the queue and tells its sockets and those behind it. */
  private leave(sessionId: string, reason: AdmissionLeaveReason): void {
    const index = (this.queue.position(sessionId) ?? 1) - 1;
    const entry = this.queue.remove(sessionId);
    if (!entry) return;
    this.notify(sessionId, this.frame(sessionId, null, entry.queuedAt, { reason }));
    this.announce(index);
  }

  /** Admits waiting sessions into free slots, in order, and sends their queued messages. */
  private pump(): void {
    const admitted = this.queue.admit(this.now());
    if (admitted.length === 0) return;
    for (const entry of admitted) {
      const done: Promise<void> = this.send(entry.sessionId, entry.item, entry.queuedAt).finally(() => {
        if (this.starting.get(entry.sessionId) === done) this.starting.delete(entry.sessionId);
      });
      this.starting.set(entry.sessionId, done);
    }
    this.announce(0);
  }

  private async send(sessionId: string, waiting: Waiting, queuedAt: number): Promise<void> {
    const [first, ...rest] = waiting.commands;
    if (!first) return;
    let failure: { error: string; code: ErrorCode } | null = null;
    try {
      const response = await this.options.forward(waiting.user, first);
      if (response.success !== true) {
        failure = {
          error: typeof response.error === "string" ? response.error : "the runner refused the prompt",
          code: (response.error_code as ErrorCode | undefined) ?? "internal",
        };
      }
    } catch (error) {
      failure = {
        error: (error as Error).message,
        code: error instanceof ProtocolError ? error.code : "internal",
      };
    }
    if (failure) {
      this.options.log(`queued prompt of ${sessionId} failed: ${failure.error}`);
      this.notify(sessionId, this.frame(sessionId, null, queuedAt, { reason: "failed", ...failure }));
      if (!this.options.hub.hasOpenTurn(sessionId) && this.queue.finish(sessionId)) this.pump();
      return;
    }
    this.notify(sessionId, this.frame(sessionId, null, queuedAt, { reason: "admitted" }));
    for (const command of rest) {
      const response = await this.options.forward(waiting.user, command).catch((error: Error) => ({
        success: false,
        error: error.message,
      }));
      if (response.success !== true)
        this.options.log(`queued ${command.cmd} of ${sessionId} failed: ${String(response.error)}`);
    }
  }

  /** Sends the position of every waiting session from `fromIndex` on (they moved, or one joined). */
  private announce(fromIndex: number): void {
    const entries = this.queue.entries();
    for (let i = Math.max(0, fromIndex); i < entries.length; i++) {
      const entry = entries[i] as (typeof entries)[number];
      this.notify(entry.sessionId, this.frame(entry.sessionId, i + 1, entry.queuedAt));
    }
  }

  private frame(
    sessionId: string,
    position: number | null,
    queuedAt: number,
    extra: { reason?: AdmissionLeaveReason; error?: string; code?: ErrorCode } = {},
  ): string {
    return JSON.stringify({
      channel: "agent",
      type: "queue",
      session_id: sessionId,
      position,
      queued_at: queuedAt,
      generating: this.queue.generatingCount,
      limit: this.queue.limit,
      ...extra,
    });
  }

  private notify(sessionId: string, frame: string): void {
    for (const conn of this.options.hub.socketsOf(sessionId)) conn.send(frame);
  }
}
