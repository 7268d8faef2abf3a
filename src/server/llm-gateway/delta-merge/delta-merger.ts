import type { DeltaPiece, DeltaRule } from "./delta-rule.ts";

/** An SSE record longer than this is not held back to be read: the rest of the stream passes as it comes. */
export const MAX_HELD_RECORD_BYTES = 1024 * 1024;

const CR = 0x0d;
const RECORD_END = Buffer.from("\n\n");
const EMPTY = Buffer.alloc(0);

interface Pending {
  piece: DeltaPiece;
  texts: string[];
  event: string | undefined;
  /** The first record's own bytes: sent as they are when nothing joined it. */
  raw: Buffer;
}

/** `event:` and one `data:` line, nothing else (no id, retry or comment): the only records ever merged. */
function recordFields(record: Buffer): { event: string | undefined; data: string } | undefined {
  const text = record.toString("utf8", 0, record.length - RECORD_END.length);
  let event: string | undefined;
  let data: string | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("data:") && data === undefined) data = line.slice(line.startsWith("data: ") ? 6 : 5);
    else if (line.startsWith("event:") && event === undefined)
      event = line.slice(line.startsWith("event: ") ? 7 : 6);
    else return undefined;
  }
  return data === undefined ? undefined : { event, data };
}

/**
 * Merges a provider's streamed text deltas into fewer SSE records, so that pi (and everything after it)
 * handles one record where the provider sent several: a piece is sent at once when none was sent within
 * the window, else held until the window has passed since the last one, joined by the pieces that come
 * meanwhile. Any other record sends what is held first and then itself, byte for byte, so the text and
 * the order of everything stay as the provider sent them. A window of 0 sends every record as it comes.
 *
 * Records are held until complete (pi's SSE reader waits for the blank line anyway). A stream with CR
 * line ends, or a record over `MAX_HELD_RECORD_BYTES`, turns the merger into a plain pass-through.
 * No I/O and no clock of its own: the caller passes the time (`merged-body.ts` does the timer).
 */
export class DeltaMerger {
  private held: Buffer = EMPTY;
  private pending: Pending | undefined;
  private lastPieceAt = Number.NEGATIVE_INFINITY;
  private passThrough = false;

  constructor(
    private readonly rule: DeltaRule,
    /** Told how many records fewer each merge sent (the metrics). */
    private readonly onMerged: (recordsSaved: number) => void = () => {},
  ) {}

  /** What to send now for `chunk`, which arrived at `now` (ms) with `windowMs` in force. */
  take(chunk: Uint8Array, now: number, windowMs: number): Buffer[] {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.passThrough) return [bytes];
    const out: Buffer[] = [];
    if (bytes.includes(CR)) {
      this.passThrough = true;
      this.flushInto(out, now);
      if (this.held.length > 0) out.push(this.held);
      this.held = EMPTY;
      out.push(bytes);
      return out;
    }
    const data = this.held.length > 0 ? Buffer.concat([this.held, bytes]) : bytes;
    let start = 0;
    // A record ending in this chunk may have begun with an LF at the end of the last one.
    let end = data.indexOf(RECORD_END, Math.max(0, this.held.length - 1));
    while (end >= 0) {
      this.takeRecord(data.subarray(start, end + RECORD_END.length), now, windowMs, out);
      start = end + RECORD_END.length;
      end = data.indexOf(RECORD_END, start);
    }
    this.held = start === 0 ? data : data.subarray(start);
    if (this.held.length > MAX_HELD_RECORD_BYTES) {
      this.passThrough = true;
      this.flushInto(out, now);
      out.push(this.held);
      this.held = EMPTY;
    } else if (this.pending && now - this.lastPieceAt >= windowMs) {
      this.flushInto(out, now);
    }
    return out;
  }

  /** When what is held must be sent (ms), or undefined when nothing is held. */
  dueAt(windowMs: number): number | undefined {
    return this.pending ? this.lastPieceAt + windowMs : undefined;
  }

  /** The held pieces as one record, now (the window passed with no record from the provider). */
  flush(now: number): Buffer[] {
    const out: Buffer[] = [];
    this.flushInto(out, now);
    return out;
  }

  /** Everything still held, at the end of the provider's body. */
  end(now: number): Buffer[] {
    const out = this.flush(now);
    if (this.held.length > 0) out.push(this.held);
    this.held = EMPTY;
    return out;
  }

  private takeRecord(record: Buffer, now: number, windowMs: number, out: Buffer[]): void {
    const piece = windowMs > 0 ? this.pieceOf(record) : undefined;
    if (!piece) {
      this.flushInto(out, now);
      out.push(record);
      return;
    }
    if (this.pending && this.pending.piece.key === piece.piece.key) {
      this.pending.texts.push(piece.piece.text);
      return;
    }
    this.flushInto(out, now);
    if (now - this.lastPieceAt >= windowMs) {
      out.push(record);
      this.lastPieceAt = now;
      return;
    }
    this.pending = { ...piece, texts: [piece.piece.text], raw: record };
  }

  private pieceOf(record: Buffer): Omit<Pending, "texts"> | undefined {
    // The cheapest test first: a JSON record of a delta is short and starts with `data: {` or `event:`.
    if (record[0] !== 0x64 /* d */ && record[0] !== 0x65 /* e */) return undefined;
    const fields = recordFields(record);
    if (!fields) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(fields.data);
    } catch {
      return undefined;
    }
    const piece = this.rule.piece(fields.event, data);
    return piece ? { piece, event: fields.event, raw: record } : undefined;
  }

  private flushInto(out: Buffer[], now: number): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    this.lastPieceAt = now;
    if (pending.texts.length === 1) {
      out.push(pending.raw);
      return;
    }
    const json = JSON.stringify(pending.piece.withText(pending.texts.join("")));
    const event = pending.event === undefined ? "" : `event: ${pending.event}\n`;
    out.push(Buffer.from(`${event}data: ${json}\n\n`));
    this.onMerged(pending.texts.length - 1);
  }
}
