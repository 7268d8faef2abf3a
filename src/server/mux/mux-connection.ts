import type { ServerWebSocket } from "bun";
import type { z } from "zod";
import { describeZodError, type ErrorCode, type MuxChannel } from "../../protocol/index.ts";
import type { CredentialRef } from "../auth/index.ts";

/** Outgoing bytes a socket may hold before it counts as a slow consumer (PROTOCOL.md §2.6). */
export const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;
/** Live frames held per subscription while its replay is being fetched. */
const MAX_BUFFERED_FRAMES = 4096;

/** Outstanding commands per queue (PROTOCOL.md §2.6). */
const QUEUE_LIMITS = { agent: 256, files: 128, misc: 128 } as const;
export type QueueName = keyof typeof QUEUE_LIMITS;

export interface MuxUser {
  id: string;
  username: string;
  role: "user" | "admin";
}

export interface SocketData {
  user: MuxUser;
  /** What the upgrade was authenticated with: re-checked while the socket is open. */
  credential: CredentialRef;
  connection?: MuxConnection;
}

interface Subscription {
  /** Highest seq delivered to this socket. */
  lastSeq: number;
  /** While a replay is fetched, live frames wait here. */
  buffer: Array<{ seq: number; frame: string }> | null;
  /** Events skipped while the socket was slow; a resync follows once it drains. */
  dropped: number;
}

/**
 * One browser WebSocket: its user, its session subscriptions with their last delivered seq,
 * its bounded command queues, and slow-consumer handling.
 */
export class MuxConnection {
  readonly subscriptions = new Map<string, Subscription>();
  private readonly outstanding: Record<QueueName, number> = { agent: 0, files: 0, misc: 0 };
  private slow = false;
  closed = false;

  constructor(
    readonly ws: ServerWebSocket<SocketData>,
    readonly user: MuxUser,
  ) {}

  /**
   * Validates a frame of a `type` channel and reserves a queue slot for it. On a bad frame or a
   * full queue the error is sent and null returned; otherwise the caller must `release(queue)`.
   */
  accept<T>(
    channel: MuxChannel,
    schema: z.ZodType<T>,
    raw: Record<string, unknown>,
    queue: QueueName,
  ): { frame: T; id: string | undefined } | null {
    const id = typeof raw.id === "string" ? raw.id : undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      this.sendError(channel, "invalid_request", describeZodError(parsed.error), id);
      return null;
    }
    if (!this.acquire(queue)) {
      this.sendError(channel, "busy", "too many requests in flight", id);
      return null;
    }
    return { frame: parsed.data, id };
  }

  /** Reserves a slot in a queue; false when the queue is full. */
  acquire(queue: QueueName): boolean {
    if (this.outstanding[queue] >= QUEUE_LIMITS[queue]) return false;
    this.outstanding[queue] += 1;
    return true;
  }

  release(queue: QueueName): void {
    this.outstanding[queue] = Math.max(0, this.outstanding[queue] - 1);
  }

  send(frame: string): void {
    if (this.closed) return;
    this.ws.send(frame);
  }

  sendJson(value: unknown): void {
    this.send(JSON.stringify(value));
  }

  sendError(channel: MuxChannel | string, code: ErrorCode, error: string, id?: string): void {
    this.sendJson({ channel, type: "error", ...(id === undefined ? {} : { id }), error, code });
  }

  isSubscribed(sessionId: string): boolean {
    return this.subscriptions.has(sessionId);
  }

  /** Whether a subscription's replay is still being fetched (its own subscribe finishes it). */
  isReplaying(sessionId: string): boolean {
    return (this.subscriptions.get(sessionId)?.buffer ?? null) !== null;
  }

  /** Starts (or restarts) a subscription in buffering mode: live frames are held until `finishReplay`. */
  beginSubscription(sessionId: string): void {
    const existing = this.subscriptions.get(sessionId);
    if (existing) existing.buffer ??= [];
    else this.subscriptions.set(sessionId, { lastSeq: 0, buffer: [], dropped: 0 });
  }

  /** Subscribes live with no replay (the caller just created the stream). */
  subscribeLive(sessionId: string): void {
    if (!this.subscriptions.has(sessionId))
      this.subscriptions.set(sessionId, { lastSeq: 0, buffer: null, dropped: 0 });
  }

  unsubscribe(sessionId: string): boolean {
    return this.subscriptions.delete(sessionId);
  }

  /**
   * Sends replayed frames (already in mux form) and then the live frames that arrived meanwhile,
   * skipping anything at or below what was already delivered. Returns how many live frames did
   * not fit the hold buffer (the caller must then tell the client to resync).
   */
  finishReplay(sessionId: string, replay: Array<{ seq: number; frame: string }>): number {
    const sub = this.subscriptions.get(sessionId);
    if (!sub) return 0;
    const held = sub.buffer ?? [];
    sub.buffer = null;
    const overflow = sub.dropped;
    sub.dropped = 0;
    for (const item of [...replay, ...held]) this.deliver(sessionId, item.seq, item.frame);
    return overflow;
  }

  /** Resets the delivered seq after the runner's stream changed epoch. */
  resetSeq(sessionId: string, seq: number): void {
    const sub = this.subscriptions.get(sessionId);
    if (sub) sub.lastSeq = seq;
  }

  /** Delivers one broadcast event frame (hot path: no parsing, no re-encoding). */
  deliver(sessionId: string, seq: number, frame: string): void {
    const sub = this.subscriptions.get(sessionId);
    if (!sub || this.closed) return;
    if (sub.buffer) {
      if (sub.buffer.length < MAX_BUFFERED_FRAMES) sub.buffer.push({ seq, frame });
      else sub.dropped += 1;
      return;
    }
    if (seq <= sub.lastSeq) return;
    if (this.slow || this.ws.getBufferedAmount() > SLOW_CONSUMER_BYTES) {
      this.slow = true;
      sub.dropped += 1;
      sub.lastSeq = seq;
      return;
    }
    this.ws.send(frame);
    sub.lastSeq = seq;
  }

  /**
   * Called when the socket drained: a slow consumer that caught up is told, per session that
   * lost events, to resync.
   */
  onDrain(resync: (sessionId: string, dropped: number, currentSeq: number) => void): void {
    if (!this.slow || this.ws.getBufferedAmount() > SLOW_CONSUMER_BYTES / 2) return;
    this.slow = false;
    for (const [sessionId, sub] of this.subscriptions) {
      if (sub.dropped === 0) continue;
      const dropped = sub.dropped;
      sub.dropped = 0;
      resync(sessionId, dropped, sub.lastSeq);
    }
  }
}
