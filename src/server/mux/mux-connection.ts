import type { z } from "zod";
import { describeZodError, type ErrorCode, type MuxChannel } from "../../protocol/index.ts";
import type { CredentialRef } from "../auth/index.ts";
import { DeltaCoalescer } from "./delta-coalescer.ts";

/** Outgoing bytes a socket may hold before it counts as a slow consumer (PROTOCOL.md §2.6). */
export const SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;
/**
 * Past this much in Bun's send buffer a socket counts as behind: frames wait in its own queue, where
 * deltas coalesce, until the socket drains (PROTOCOL.md §2.4). Below it frames go out as they came.
 */
export const COALESCE_AFTER_BYTES = 64 * 1024;
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
  /** Highest seq delivered to this socket (sent, or queued to be sent in order). */
  lastSeq: number;
  /** While a replay is fetched, live frames wait here. */
  buffer: Array<{ seq: number; event: string; frame: string }> | null;
  /** Events skipped while the socket was slow; a resync follows once it drains. */
  dropped: number;
}

/**
 * Where a connection's frames go: a browser WebSocket, or any other client stream that reports its
 * backlog the same way (the REST event stream, src/server/sse/).
 */
export interface MuxTransport {
  send(frame: string): unknown;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
  readonly data: SocketData;
}

/**
 * One browser WebSocket: its user, its session subscriptions with their last delivered seq,
 * its bounded command queues, and slow-consumer handling.
 */
export class MuxConnection {
  readonly subscriptions = new Map<string, Subscription>();
  private readonly outstanding: Record<QueueName, number> = { agent: 0, files: 0, misc: 0 };
  private slow = false;
  /** Frames waiting while the socket is behind; empty whenever it keeps up. */
  private readonly outbox = new DeltaCoalescer();
  closed = false;

  constructor(
    readonly ws: MuxTransport,
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
    // Behind a queue nothing overtakes it: a response must not arrive before the events it follows.
    if (this.outbox.size > 0) this.outbox.pushFrame(frame);
    else this.ws.send(frame);
  }

  /** What this socket still has to send: Bun's buffer plus its own queue (characters, about bytes). */
  backlogBytes(): number {
    return this.ws.getBufferedAmount() + this.outbox.chars;
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
  finishReplay(sessionId: string, replay: Array<{ seq: number; event: string; frame: string }>): number {
    const sub = this.subscriptions.get(sessionId);
    if (!sub) return 0;
    const held = sub.buffer ?? [];
    sub.buffer = null;
    const overflow = sub.dropped;
    sub.dropped = 0;
    for (const item of [...replay, ...held]) this.deliver(sessionId, item.seq, item.event, item.frame);
    return overflow;
  }

  /** Resets the delivered seq after the runner's stream changed epoch. */
  resetSeq(sessionId: string, seq: number): void {
    const sub = this.subscriptions.get(sessionId);
    if (sub) sub.lastSeq = seq;
  }

  /**
   * Delivers one broadcast event frame. Hot path while the socket keeps up: the frame is sent as it
   * came, no parsing, no re-encoding. Behind, it is queued (and may coalesce); past the slow-consumer
   * bound the queued events are dropped and the client is told to resync once it drains.
   */
  deliver(sessionId: string, seq: number, event: string, frame: string): void {
    const sub = this.subscriptions.get(sessionId);
    if (!sub || this.closed) return;
    if (sub.buffer) {
      if (sub.buffer.length < MAX_BUFFERED_FRAMES) sub.buffer.push({ seq, event, frame });
      else sub.dropped += 1;
      return;
    }
    if (seq <= sub.lastSeq) return;
    sub.lastSeq = seq;
    if (this.slow) {
      sub.dropped += 1;
      return;
    }
    if (this.outbox.size === 0) {
      const buffered = this.ws.getBufferedAmount();
      if (buffered < COALESCE_AFTER_BYTES) {
        this.ws.send(frame);
        return;
      }
      if (buffered > SLOW_CONSUMER_BYTES) {
        this.overflow();
        sub.dropped += 1;
        return;
      }
    } else if (this.backlogBytes() > SLOW_CONSUMER_BYTES) {
      this.overflow();
      sub.dropped += 1;
      return;
    }
    this.outbox.pushEvent(sessionId, seq, event, frame);
  }

  /** Sends queued frames while the socket has room; what stays waits for the next drain. */
  flush(): void {
    while (this.outbox.size > 0 && !this.closed && this.ws.getBufferedAmount() < COALESCE_AFTER_BYTES) {
      const frame = this.outbox.shift();
      if (frame !== undefined) this.ws.send(frame);
    }
  }

  /** The socket fell too far behind: its queued events are dropped (a resync replaces them), the rest kept. */
  private overflow(): void {
    this.slow = true;
    for (const [sessionId, count] of this.outbox.dropEvents()) {
      const sub = this.subscriptions.get(sessionId);
      if (sub) sub.dropped += count;
    }
  }

  /** The socket closed: nothing queued for it will be sent. */
  discard(): void {
    this.outbox.clear();
  }

  /**
   * Called when the socket drained: queued frames go out, and a slow consumer that caught up is
   * told, per session that lost events, to resync.
   */
  onDrain(resync: (sessionId: string, dropped: number, currentSeq: number) => void): void {
    this.flush();
    if (!this.slow || this.backlogBytes() > SLOW_CONSUMER_BYTES / 2) return;
    this.slow = false;
    for (const [sessionId, sub] of this.subscriptions) {
      if (sub.dropped === 0) continue;
      const dropped = sub.dropped;
      sub.dropped = 0;
      resync(sessionId, dropped, sub.lastSeq);
    }
  }
}
