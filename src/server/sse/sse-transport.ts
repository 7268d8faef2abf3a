import { MUX_EVENT_PREFIX } from "../../protocol/index.ts";
import { COALESCE_AFTER_BYTES, type MuxTransport, type SocketData } from "../mux/mux-connection.ts";
import { type CommandOutcome, responseIn } from "../routes/agent-command-call.ts";

const QUEUE_PREFIX = `${MUX_EVENT_PREFIX}"type":"queue"`;
/** Broadcast events (relayed runner lines, coalesced deltas, interrupted turns) start with these keys. */
const BROADCAST_PREFIX = `${MUX_EVENT_PREFIX}"session_id":"`;

export interface SseTransportHandlers {
  /** A command response (the stream's own subscribe): it is not part of the stream. */
  onResponse: (response: CommandOutcome) => void;
  /** The client took bytes and the queue has room again (the WebSocket's `drain`). */
  onDrain: () => void;
  /** The stream ended, by either side; called once. */
  onClose: () => void;
}

/**
 * The Server-Sent Events stream of one client, as a MuxConnection transport: mux frames in,
 * `id: <seq>` + `data: <canonical event line>` out. A frame is only sliced, never re-encoded: the
 * agent frame prefix `{"channel":"agent",` becomes `{`, which leaves the canonical event. What the
 * client has not taken yet waits in the stream's queue and counts as the socket's buffered amount,
 * so the mux's coalescing and slow-consumer policy apply unchanged.
 */
export class SseTransport implements MuxTransport {
  readonly stream: ReadableStream<string>;
  private controller: ReadableStreamDefaultController<string> | undefined;
  private ended = false;

  constructor(
    readonly data: SocketData,
    private readonly handlers: SseTransportHandlers,
  ) {
    this.stream = new ReadableStream<string>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          if (!this.ended) this.handlers.onDrain();
        },
        cancel: () => this.finish(),
      },
      // Below this much queued, frames go straight out (the WebSocket's COALESCE_AFTER_BYTES).
      { highWaterMark: COALESCE_AFTER_BYTES, size: (chunk) => chunk?.length ?? 0 },
    );
  }

  send(frame: string): number {
    if (this.ended || !frame.startsWith(MUX_EVENT_PREFIX)) return 0;
    const line = `{${frame.slice(MUX_EVENT_PREFIX.length)}`;
    if (frame.startsWith(QUEUE_PREFIX)) return this.write(`event: queue\ndata: ${line}\n\n`);
    const head = broadcastHead(frame);
    if (!head) {
      const response = responseIn(frame);
      if (response) {
        this.handlers.onResponse(response);
        return 0;
      }
      // Addressed events (stream.resync_required) carry no id: they are not part of the replayable stream.
      return this.write(`data: ${line}\n\n`);
    }
    const written = this.write(`id: ${head.seq}\ndata: ${line}\n\n`);
    // The session's stream ended: so does this one, once the client has taken what is queued.
    if (head.closed) this.close();
    return written;
  }

  /** An SSE comment (heartbeats): ignored by clients, keeps proxies and the connection awake. */
  comment(text: string): void {
    if (!this.ended) this.write(`: ${text}\n\n`);
  }

  getBufferedAmount(): number {
    const free = this.controller?.desiredSize ?? COALESCE_AFTER_BYTES;
    return Math.max(0, COALESCE_AFTER_BYTES - free);
  }

  close(): void {
    if (this.ended) return;
    this.finish();
    try {
      this.controller?.close();
    } catch {
      // Already closed or cancelled by the client.
    }
  }

  private write(chunk: string): number {
    try {
      this.controller?.enqueue(chunk);
      return chunk.length;
    } catch {
      this.finish();
      return 0;
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onClose();
  }
}

/**
 * The seq of a broadcast event frame, from its fixed leading keys (session ids need no escaping),
 * and whether it is the stream's `session.closed`; null for any other frame.
 */
function broadcastHead(frame: string): { seq: string; closed: boolean } | null {
  if (!frame.startsWith(BROADCAST_PREFIX)) return null;
  const sidEnd = frame.indexOf('"', BROADCAST_PREFIX.length);
  if (sidEnd < 0 || !frame.startsWith(',"seq":', sidEnd + 1)) return null;
  const seqStart = sidEnd + ',"seq":'.length + 1;
  const seqEnd = frame.indexOf(",", seqStart);
  const seq = frame.slice(seqStart, seqEnd);
  if (seqEnd < 0 || !/^\d+$/.test(seq)) return null;
  // The envelope's `event` comes before any payload key of the same name.
  const eventKey = frame.indexOf(',"event":"', seqEnd);
  const closed = eventKey >= 0 && frame.startsWith('session.closed"', eventKey + ',"event":"'.length);
  return { seq, closed };
}
