import { z } from "zod";
import {
  EventEnvelope,
  EventPayloads,
  MUX_EVENT_PREFIX,
  peekEventLine,
  RUNNER_EVENT_PREFIX,
} from "../../protocol/index.ts";

/**
 * The outgoing queue of a socket that fell behind (PROTOCOL.md §2.4, "Coalescing"). Frames leave in
 * the order they came; while they wait, consecutive deltas of one content block of one session are
 * merged into one frame whose `delta` is the concatenation, whose `seq` is the last and whose
 * `seq_from` the first seq it covers. Only this slow path parses frames, and only delta frames.
 */

/** Events whose `delta` strings concatenate into the block they build (the UI appends them). */
const COALESCIBLE = ["stream.text_delta", "stream.thinking_delta", "stream.tool_call_delta"] as const;
const COALESCIBLE_SET: ReadonlySet<string> = new Set(COALESCIBLE);

// Strict: a frame with anything unexpected (an unknown field, an earlier `seq_from`) is passed on as it is.
const MuxDeltaEnvelope = EventEnvelope.omit({ seq_from: true }).extend({ channel: z.literal("agent") });

/** A delta event as the relay sends it (canonical schema, mux envelope). */
const DeltaFrame = z.discriminatedUnion("event", [
  MuxDeltaEnvelope.extend({ event: z.literal("stream.text_delta") })
    .extend(EventPayloads["stream.text_delta"].shape)
    .strict(),
  MuxDeltaEnvelope.extend({ event: z.literal("stream.thinking_delta") })
    .extend(EventPayloads["stream.thinking_delta"].shape)
    .strict(),
  MuxDeltaEnvelope.extend({ event: z.literal("stream.tool_call_delta") })
    .extend(EventPayloads["stream.tool_call_delta"].shape)
    .strict(),
]);
type DeltaFrame = z.infer<typeof DeltaFrame>;

/** Consecutive deltas merge only when all of these match: the same block of the same message. */
function blockKey(frame: DeltaFrame): string {
  return JSON.stringify([frame.event, frame.message_id, frame.content_index, toolCallId(frame) ?? null]);
}

function toolCallId(frame: DeltaFrame): string | undefined {
  return frame.event === "stream.tool_call_delta" ? frame.tool_call_id : undefined;
}

/** Queued deltas of one block: sent as the original frame while alone, else encoded once at flush. */
interface Run {
  kind: "run";
  sessionId: string;
  key: string;
  first: DeltaFrame;
  raw: string;
  deltas: string[];
  seq: number;
  ts: number;
  /** Broadcast events it stands for (a slow-consumer drop counts them). */
  events: number;
  chars: number;
}

/** A frame passed on unchanged: a non-delta event (events = 1) or any other frame (events = 0). */
interface Opaque {
  kind: "frame";
  sessionId: string | null;
  frame: string;
  events: number;
  chars: number;
}

type Entry = Run | Opaque;

export class DeltaCoalescer {
  private entries: Entry[] = [];
  private head = 0;
  /** Per session, its last queued entry when that is a delta run still open to merging. */
  private readonly open = new Map<string, Run>();
  private queuedChars = 0;

  /** Frames waiting. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Characters waiting (UTF-16 units; at most three UTF-8 bytes each), for the slow-consumer bound. */
  get chars(): number {
    return this.queuedChars;
  }

  /**
   * Queues a broadcast event frame of a session. A delta joins its session's open run when it builds
   * the same block; every other event of the session ends that run, so the session's order stays.
   */
  pushEvent(sessionId: string, seq: number, event: string, frame: string): void {
    const delta = COALESCIBLE_SET.has(event) ? parseDelta(frame) : null;
    if (!delta || delta.session_id !== sessionId || delta.seq !== seq) {
      this.open.delete(sessionId);
      this.append({ kind: "frame", sessionId, frame, events: 1, chars: frame.length });
      return;
    }
    const key = blockKey(delta);
    const run = this.open.get(sessionId);
    if (run && run.key === key && seq > run.seq) {
      run.deltas.push(delta.delta);
      run.seq = seq;
      run.ts = delta.ts;
      run.events += 1;
      run.chars += delta.delta.length;
      this.queuedChars += delta.delta.length;
      return;
    }
    const next: Run = {
      kind: "run",
      sessionId,
      key,
      first: delta,
      raw: frame,
      deltas: [delta.delta],
      seq,
      ts: delta.ts,
      events: 1,
      chars: frame.length,
    };
    this.open.set(sessionId, next);
    this.append(next);
  }

  /**
   * Queues a frame that is not a broadcast event (a response, a resync, a ping, another channel).
   * It belongs to no stream, so it ends every open run: nothing moves across it.
   */
  pushFrame(frame: string): void {
    this.open.clear();
    this.append({ kind: "frame", sessionId: null, frame, events: 0, chars: frame.length });
  }

  /** Takes the oldest frame, encoded for the wire. */
  shift(): string | undefined {
    const entry = this.entries[this.head];
    if (!entry) return undefined;
    this.entries[this.head] = undefined as unknown as Entry;
    this.head += 1;
    // Compacts now and then, so a long backlog is not an ever-growing array.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    this.queuedChars -= entry.chars;
    if (entry.kind === "frame") return entry.frame;
    if (this.open.get(entry.sessionId) === entry) this.open.delete(entry.sessionId);
    return encodeRun(entry);
  }

  /**
   * Drops every queued broadcast event (the socket overflowed; its client will resync anyway) and
   * keeps the other frames in order. Returns, per session, how many events were dropped.
   */
  dropEvents(): Map<string, number> {
    const dropped = new Map<string, number>();
    const kept: Entry[] = [];
    let chars = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i] as Entry;
      if (entry.events > 0 && entry.sessionId !== null) {
        dropped.set(entry.sessionId, (dropped.get(entry.sessionId) ?? 0) + entry.events);
        continue;
      }
      kept.push(entry);
      chars += entry.chars;
    }
    this.entries = kept;
    this.head = 0;
    this.queuedChars = chars;
    this.open.clear();
    return dropped;
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.queuedChars = 0;
    this.open.clear();
  }

  private append(entry: Entry): void {
    this.entries.push(entry);
    this.queuedChars += entry.chars;
  }
}

function parseDelta(frame: string): DeltaFrame | null {
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return null;
  }
  const parsed = DeltaFrame.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** A run of one delta is its original frame, byte for byte; a longer one is encoded once, here. */
function encodeRun(run: Run): string {
  if (run.deltas.length === 1) return run.raw;
  const { first } = run;
  const toolCall = toolCallId(first);
  return JSON.stringify({
    channel: "agent",
    session_id: first.session_id,
    seq: run.seq,
    seq_from: first.seq,
    runner_id: first.runner_id,
    ts: run.ts,
    event: first.event,
    message_id: first.message_id,
    ...(toolCall === undefined ? {} : { tool_call_id: toolCall }),
    delta: run.deltas.join(""),
    content_index: first.content_index,
  });
}

/**
 * The merge on its own: coalesces a sequence of mux frames as a queue holding all of them would.
 * Agent broadcast events are recognised by their fixed prefix; anything else is a barrier.
 */
export function coalesceFrames(frames: readonly string[]): string[] {
  const queue = new DeltaCoalescer();
  for (const frame of frames) {
    const head = frame.startsWith(MUX_EVENT_PREFIX)
      ? peekEventLine(RUNNER_EVENT_PREFIX + frame.slice(MUX_EVENT_PREFIX.length))
      : null;
    if (head && head.event !== "response" && head.event !== "stream.resync_required")
      queue.pushEvent(head.sessionId, head.seq, head.event, frame);
    else queue.pushFrame(frame);
  }
  const out: string[] = [];
  for (let frame = queue.shift(); frame !== undefined; frame = queue.shift()) out.push(frame);
  return out;
}
