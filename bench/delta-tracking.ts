/**
 * What the streaming benchmarks measure per delta: every delta's text carries a marker `[s.i]`
 * (session s, delta i), so a stream's arrivals can be checked for loss, duplicates and order and
 * timed against the fake LLM's send time, whatever transport carried them.
 */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
export const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "–");
export const pair = (values: number[], fmt = f2) =>
  `${fmt(percentile(values, 50))} / ${fmt(percentile(values, 99))}`;

const MARKER = /\[(\d+)\.(\d+)\]/g;
export const deltaText = (session: number, i: number) => `[${session}.${i}] `;

/** One stream's deltas as they arrive (over the WebSocket or the direct HTTP read). */
export class Track {
  text = "";
  private scanFrom = 0;
  /** Marker indexes in the order they completed, with when. */
  readonly arrivals: Array<{ i: number; at: number }> = [];
  firstDeltaAt: number | undefined;
  startedAt = 0;
  frames = 0;
  /** Frames standing for several deltas (`seq_from`, the relay's coalescing). */
  coalesced = 0;
  foreign = 0;

  constructor(
    readonly session: number,
    /** How many deltas the stream sends. */
    readonly deltas: number,
  ) {}

  get expected(): string {
    return Array.from({ length: this.deltas }, (_, i) => deltaText(this.session, i)).join("");
  }

  /** A piece of this stream's text arrived at `at`: every marker it completes counts as received then. */
  feed(delta: string, at: number): void {
    this.frames++;
    if (this.firstDeltaAt === undefined) this.firstDeltaAt = at;
    this.text += delta;
    MARKER.lastIndex = this.scanFrom;
    for (let m = MARKER.exec(this.text); m; m = MARKER.exec(this.text)) {
      if (Number(m[1]) === this.session) this.arrivals.push({ i: Number(m[2]), at });
      else this.foreign++;
      this.scanFrom = MARKER.lastIndex;
    }
  }

  check(): { received: number; lost: number; duplicated: number; reordered: number; intact: boolean } {
    const seen = new Set<number>();
    let duplicated = 0;
    let reordered = 0;
    let highest = -1;
    for (const { i } of this.arrivals) {
      if (seen.has(i)) duplicated++;
      else if (i < highest) reordered++;
      seen.add(i);
      highest = Math.max(highest, i);
    }
    const lost = [...Array(this.deltas).keys()].filter((i) => !seen.has(i)).length;
    return {
      received: this.arrivals.length,
      lost,
      duplicated,
      reordered,
      intact: this.text === this.expected,
    };
  }

  /** fake sent → received, ms, for each delta's first arrival. */
  latencies(sentAt: (text: string) => number | undefined): number[] {
    const out: number[] = [];
    const first = new Set<number>();
    for (const { i, at } of this.arrivals) {
      if (first.has(i)) continue;
      first.add(i);
      const sent = sentAt(deltaText(this.session, i));
      if (sent !== undefined) out.push(at - sent);
    }
    return out;
  }
}

export interface StreamResult {
  latencies: number[];
  firstDelta: number[];
  received: number;
  lost: number;
  duplicated: number;
  reordered: number;
  intactSessions: number;
  foreign: number;
  frames: number;
  coalesced: number;
}

export function summarise(tracks: Track[], sentAt: (text: string) => number | undefined): StreamResult {
  const result: StreamResult = {
    latencies: [],
    firstDelta: [],
    received: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    intactSessions: 0,
    foreign: 0,
    frames: 0,
    coalesced: 0,
  };
  for (const track of tracks) {
    const c = track.check();
    result.latencies.push(...track.latencies(sentAt));
    if (track.firstDeltaAt !== undefined) result.firstDelta.push(track.firstDeltaAt - track.startedAt);
    result.received += c.received;
    result.lost += c.lost;
    result.duplicated += c.duplicated;
    result.reordered += c.reordered;
    result.foreign += track.foreign;
    result.frames += track.frames;
    result.coalesced += track.coalesced;
    if (c.intact) result.intactSessions++;
  }
  return result;
}
