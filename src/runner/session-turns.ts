/**
 * Turn rules of one session (PROTOCOL.md §1.7): what prompt / steer / follow_up do in each
 * state; a turn runs from an accepted prompt (or a run pi started by itself) to agent.idle; errored
 * runs wait for pi's re-run; aborts and the watchdog are enforced by killing pi; the turn's messages
 * are persisted before agent.idle.
 */
import type { Config } from "../config/schema.ts";
import type { CommandOf } from "../protocol/commands.ts";
import { ProtocolError } from "../protocol/common.ts";
import { PiCommandsData, type PiImage } from "./harness/pi/pi-schemas.ts";
import type { PiTranslator } from "./harness/pi/translator.ts";
import type { TurnWrite } from "./history/conversation-sync.ts";
import type { TurnCheckpoint } from "./history/turn-checkpoint.ts";
import type { Session } from "./session.ts";
import { ClientIdDedupe } from "./session-dedupe.ts";
import { TurnWatchdog } from "./session-watchdog.ts";

/** How long an errored run may wait for pi's auto-retry or compaction re-run before the turn ends (§1.7-3). */
export const RERUN_HOLD_MS = 2_000;

/** pi answers an extension command's prompt when the command is done, which may wait on the user's answers. */
export const EXTENSION_COMMAND_TIMEOUT_MS = 600_000;

export type MessageKind = "prompt" | "steer" | "follow_up";
export type ImageInput = NonNullable<CommandOf<"prompt">["images"]>[number];

/** What the turn rules need of their session beyond its public members. */
export interface TurnHost {
  translator(): PiTranslator | undefined;
  /** Time of pi's last stdout record. */
  lastOutputAt(): number;
  /** The start under way, if any. */
  starting(): Promise<void> | undefined;
  /** Sends pi's `abort`; the run ends with pi's agent_end. */
  requestAbort(): Promise<unknown>;
  /** Drops the process from the session and kills it; false when there is none. */
  killProcess(): Promise<boolean>;
  updateIdleTimer(): void;
  /** A turn began without a prompt: the idle timer must not fire during it. */
  cancelIdleTimer(): void;
  log(message: string): void;
}

export interface TurnTrackerOptions {
  runner: Pick<Config["runner"], "start_timeout_s" | "silence_timeout_s" | "abort_timeout_s">;
  session: Pick<
    Session,
    "state" | "isRunning" | "lastActivity" | "emit" | "start" | "requestData" | "saveIndex"
  >;
  host: TurnHost;
  history: { persistTurn(): Promise<TurnWrite> } | undefined;
  checkpoint: TurnCheckpoint | undefined;
}

export class TurnTracker {
  /** pi's `retry.enabled`: an errored run is then held for pi's auto-retry. */
  autoRetry = true;
  /** A turn runs from an accepted prompt (or an unprompted agent_start) to agent.idle. */
  private turnOpen = false;
  /** pi sent agent_start for the current turn. */
  private runStarted = false;
  private rerunHold: ReturnType<typeof setTimeout> | undefined;
  private compactionRerunPending = false;
  private abortWaiters: Array<() => void> = [];
  private abortKill: ReturnType<typeof setTimeout> | undefined;
  /** Set while the ended turn is being persisted; agent.idle follows. */
  private turnEnding: Promise<void> | undefined;
  /** Counts pi runs, so that a run starting while a turn is persisted keeps the turn open. */
  private runGeneration = 0;
  private readonly dedupe = new ClientIdDedupe();
  private readonly watchdog: TurnWatchdog;
  private readonly session: TurnTrackerOptions["session"];
  private readonly host: TurnHost;

  constructor(private readonly options: TurnTrackerOptions) {
    this.session = options.session;
    this.host = options.host;
    this.watchdog = new TurnWatchdog({
      startTimeoutMs: options.runner.start_timeout_s * 1000,
      silenceTimeoutMs: options.runner.silence_timeout_s * 1000,
      lastOutputAt: () => this.host.lastOutputAt(),
      phase: () => this.host.translator()?.phase,
      onTimeout: (reason) => this.watchdogFired(reason),
    });
  }

  get open(): boolean {
    return this.turnOpen;
  }

  /**
   * prompt / steer / follow_up (§1.2). A stopped session is resumed first; while idle or starting
   * steer and follow_up are sent as a prompt. Duplicate `client_id`s succeed without being resent.
   */
  async send(kind: MessageKind, message: string, images: ImageInput[] | undefined, clientId?: string) {
    const { session, host } = this;
    if (clientId && this.dedupe.has(clientId)) return;
    if (this.turnEnding) throw new ProtocolError("session_busy", "the last turn is still being saved");
    if (session.state === "closed") void session.start().catch(() => undefined);
    const asPrompt = session.state === "starting" || session.state === "idle";
    if (!asPrompt && (kind === "prompt" || session.state !== "streaming")) {
      throw new ProtocolError("session_busy", `cannot ${kind} while the session is ${session.state}`);
    }
    if (asPrompt) {
      if (this.turnOpen) throw new ProtocolError("session_busy", "a turn is already running");
      // Reserve the turn before the first await, so a concurrent prompt is refused.
      this.turnOpen = true;
    }
    if (clientId) this.dedupe.add(clientId);
    const piImages: PiImage[] | undefined = images?.map((i) => ({
      type: "image",
      data: i.data,
      mimeType: i.media_type,
    }));
    const withImages = piImages ? { images: piImages } : {};
    try {
      const starting = host.starting();
      if (asPrompt && starting) await starting;
      if (asPrompt && (await this.isExtensionCommand(message))) {
        // pi runs an extension command itself and starts no run for it, so no turn waits for one;
        // a run the command starts opens its own turn.
        this.turnOpen = false;
        host.updateIdleTimer();
        await session.requestData({ type: "prompt", message, ...withImages }, EXTENSION_COMMAND_TIMEOUT_MS);
        session.lastActivity = Date.now();
        return;
      }
      // Registered before sending: the user message_end can arrive before the response is handled.
      if (clientId) host.translator()?.expectUserMessage(message, clientId);
      if (asPrompt) {
        if (session.state === "idle") session.state = "streaming";
        this.watchdog.awaitStart();
        await session.requestData({ type: "prompt", message, ...withImages });
      } else {
        await session.requestData({ type: kind, message, ...withImages });
      }
    } catch (error) {
      if (clientId) this.dedupe.delete(clientId);
      if (asPrompt && this.turnOpen && !this.runStarted && session.state !== "aborting") {
        // pi refused the prompt and no run started: there is no turn to end.
        this.turnOpen = false;
        this.watchdog.stop();
        if (session.state === "streaming") session.state = "idle";
        host.updateIdleTimer();
      }
      throw error;
    }
    session.lastActivity = Date.now();
  }

  /** `/name …` where `name` is one of pi's extension commands (asked of pi: extensions register them at will). */
  private async isExtensionCommand(message: string): Promise<boolean> {
    if (!message.startsWith("/")) return false;
    const name = message.slice(1).split(/\s/, 1)[0];
    const listed = PiCommandsData.safeParse(await this.session.requestData({ type: "get_commands" }));
    return listed.success && listed.data.commands.some((c) => c.source === "extension" && c.name === name);
  }

  /** abort (§1.7-4): resolves after the turn's agent.idle; false when no turn was running. */
  async abort(): Promise<boolean> {
    if (!this.turnOpen) return false;
    const ended = new Promise<void>((resolve) => this.abortWaiters.push(resolve));
    this.beginAbort();
    await ended;
    return true;
  }

  /** The process left the session: no timer of its turn may fire any more. */
  stopTimers(): void {
    this.watchdog.stop();
    this.options.checkpoint?.stop();
    clearTimeout(this.rerunHold);
    clearTimeout(this.abortKill);
    this.rerunHold = undefined;
    this.abortKill = undefined;
  }

  /**
   * The turn is over: its messages are persisted (§1.7-2), then agent.idle (with the history version,
   * or after `agent.error{history_unavailable}`), then the abort responses. Concurrent calls share one end.
   */
  finish(): Promise<void> {
    if (!this.turnOpen) return Promise.resolve();
    this.turnEnding ??= this.endTurn().finally(() => {
      this.turnEnding = undefined;
    });
    return this.turnEnding;
  }

  /** pi died: an open turn ends with what was seen before `then` (the end of the stream) runs. */
  endAfterExit(then: () => void): void {
    if (!this.turnOpen) {
      then();
      return;
    }
    void this.finish()
      .catch((error) => this.host.log(`ending the turn failed: ${(error as Error).message}`))
      .then(then);
  }

  // ---- pi's run events (translator hooks) ----

  agentStarted(): void {
    clearTimeout(this.rerunHold);
    this.rerunHold = undefined;
    this.compactionRerunPending = false;
    this.runStarted = true;
    this.runGeneration += 1;
    this.options.checkpoint?.start();
    if (!this.turnOpen) {
      // A run pi started by itself (e.g. after a threshold compaction).
      this.turnOpen = true;
      this.host.cancelIdleTimer();
    }
    if (this.session.state === "idle") this.session.state = "streaming";
    if (this.session.state !== "aborting") this.watchdog.running();
  }

  agentEnded(lastStopReason: string | undefined): void {
    this.watchdog.stop();
    const mayRerun =
      this.session.state !== "aborting" &&
      ((lastStopReason === "error" && this.autoRetry) || this.compactionRerunPending);
    if (!mayRerun) {
      this.finish();
      return;
    }
    clearTimeout(this.rerunHold);
    this.rerunHold = setTimeout(() => this.finish(), RERUN_HOLD_MS);
  }

  autoRetryStarted(): void {
    clearTimeout(this.rerunHold);
    this.rerunHold = undefined;
  }

  compactionEnded(willRetry: boolean): void {
    this.compactionRerunPending = willRetry;
  }

  // ---- internals ----

  private beginAbort(): void {
    this.session.state = "aborting";
    this.watchdog.stop();
    clearTimeout(this.rerunHold);
    if (this.abortKill === undefined) {
      const timeoutS = this.options.runner.abort_timeout_s;
      this.abortKill = setTimeout(
        () =>
          void this.killTurn(
            `the agent did not stop within ${timeoutS} s of the abort; its process was stopped`,
          ),
        timeoutS * 1000,
      );
    }
    this.host.requestAbort().catch((error) => this.host.log(`abort: ${(error as Error).message}`));
  }

  private watchdogFired(reason: string): void {
    if (!this.turnOpen) return;
    const phase = this.host.translator()?.phase;
    this.session.emit("agent.error", {
      error: reason,
      recoverable: true,
      code: "watchdog",
      ...(phase ? { phase } : {}),
    });
    this.beginAbort();
  }

  /** Abort fallback: kill pi, end the turn with what was seen; the next prompt resumes the session. */
  private async killTurn(reason: string): Promise<void> {
    this.abortKill = undefined;
    if (!this.turnOpen || !(await this.host.killProcess())) return;
    this.session.emit("agent.error", { error: reason, recoverable: true });
    this.session.state = "closed";
    await this.finish();
  }

  private async endTurn(): Promise<void> {
    const run = this.runGeneration;
    this.watchdog.stop();
    this.options.checkpoint?.stop();
    clearTimeout(this.rerunHold);
    this.rerunHold = undefined;
    clearTimeout(this.abortKill);
    this.abortKill = undefined;
    const { history } = this.options;
    const written = history ? await history.persistTurn() : undefined;
    // pi started another run meanwhile (a late re-run): the turn goes on and ends with that run.
    if (run !== this.runGeneration && this.session.isRunning) return;
    this.turnOpen = false;
    this.runStarted = false;
    this.compactionRerunPending = false;
    this.host.translator()?.endTurn();
    if (this.session.state === "streaming" || this.session.state === "aborting") this.session.state = "idle";
    if (written && !written.ok) {
      this.session.emit("agent.error", {
        error: `history is unavailable; the turn is kept and saved later: ${written.error}`,
        recoverable: true,
        code: "history_unavailable",
      });
    }
    this.session.emit(
      "agent.idle",
      written?.ok && written.version
        ? {
            message_version: {
              version: written.version.version,
              message_count: written.version.messageCount,
            },
          }
        : {},
    );
    this.session.lastActivity = Date.now();
    this.session.saveIndex();
    const waiters = this.abortWaiters;
    this.abortWaiters = [];
    for (const resolve of waiters) resolve();
    this.host.updateIdleTimer();
  }
}
