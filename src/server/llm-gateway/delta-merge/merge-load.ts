import { availableParallelism } from "node:os";
import type { Config } from "../../../config/schema.ts";

export interface DeltaMergeSettings {
  /** The window pieces are merged over; 0 never merges. */
  windowMs: number;
  /** Merging is on while more answers than this stream through the gateway at once. */
  aboveStreams: number;
}

/** `[llm_gateway]` with its defaults: merge over 40 ms while more answers stream than the machine has cores. */
export function deltaMergeSettings(config: Config, cores = availableParallelism()): DeltaMergeSettings {
  return {
    windowMs: config.llm_gateway.merge_window_ms,
    aboveStreams: config.llm_gateway.merge_above_streams ?? Math.max(1, cores),
  };
}

/**
 * How many answers stream through the gateway now, and so whether their deltas are merged: one stream's
 * deltas cost little, but each record costs pi ~0.5 ms of CPU (BENCHMARKS.md "End-to-end streaming"), so
 * once the streams outnumber the cores fewer records is what keeps every stream on time.
 */
export class DeltaMergeLoad {
  private streams = 0;
  private saved = 0;

  constructor(readonly settings: DeltaMergeSettings) {}

  /** A streamed answer began; call the result once when it has ended. */
  begin(): () => void {
    this.streams += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.streams -= 1;
    };
  }

  /** The window in force now. */
  windowMs(): number {
    return this.streams > this.settings.aboveStreams ? this.settings.windowMs : 0;
  }

  /** Records not sent because their pieces went in another record, since start (the metrics). */
  get recordsSaved(): number {
    return this.saved;
  }

  countSaved(records: number): void {
    this.saved += records;
  }
}
