import type { AgentPhase } from "../protocol/common.ts";

export interface WatchdogOptions {
  startTimeoutMs: number;
  silenceTimeoutMs: number;
  /** Time of pi's last stdout record. */
  lastOutputAt(): number;
  phase(): AgentPhase | undefined;
  /** No `agent_start` in time, or silence while the model should be producing output. */
  onTimeout(reason: string): void;
}

/** Phases in which pi must keep producing output; long tools and compactions are legitimate silence. */
const WATCHED_PHASES: ReadonlySet<AgentPhase> = new Set(["generating", "thinking"]);

/**
 * Runner-side turn watchdog (PROTOCOL.md §1.7-5). One timer at a time; the silence check re-arms
 * itself for the remaining time instead of being reset on every record (no per-event work).
 */
export class TurnWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: WatchdogOptions) {}

  /** A prompt was accepted: pi must start the run in time. */
  awaitStart(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.options.onTimeout(`the agent did not start within ${this.options.startTimeoutMs / 1000} s`);
    }, this.options.startTimeoutMs);
  }

  /** The run started: from now on watch for silence. */
  running(): void {
    this.stop();
    this.armSilence(this.options.silenceTimeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private armSilence(delayMs: number): void {
    this.timer = setTimeout(() => this.checkSilence(), Math.max(delayMs, 1));
  }

  private checkSilence(): void {
    this.timer = undefined;
    const silentFor = Date.now() - this.options.lastOutputAt();
    const phase = this.options.phase();
    if (phase && WATCHED_PHASES.has(phase) && silentFor >= this.options.silenceTimeoutMs) {
      this.options.onTimeout(`no output from the agent for ${Math.round(silentFor / 1000)} s while ${phase}`);
      return;
    }
    const remaining = phase && WATCHED_PHASES.has(phase) ? this.options.silenceTimeoutMs - silentFor : 0;
    this.armSilence(remaining > 0 ? remaining : this.options.silenceTimeoutMs);
  }
}
