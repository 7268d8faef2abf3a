import type { StreamMessage } from "./event-follower.ts";
import type { TypedMessage } from "./turn-outcome.ts";

/** Where a turn's output goes: the answer on stdout, everything else as lines on stderr. */
export interface TurnIo {
  stdout(text: string): void;
  stderr(line: string): void;
  /** Whether stdout is a terminal (then stderr lines are kept off a half-written line of the answer). */
  stdoutIsTty: boolean;
}

const SUMMARY_CHARS = 120;

function clip(text: string, max = SUMMARY_CHARS): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A tool call's input in one short line: a single string argument as itself, anything else as JSON. */
function inputSummary(input: unknown): string {
  if (input === undefined) return "";
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const values = Object.values(input);
    if (values.length === 1 && typeof values[0] === "string") return clip(values[0]);
  }
  return clip(JSON.stringify(input) ?? "");
}

/**
 * Writes one turn to the terminal. Text mode: the assistant's text deltas as they come on stdout,
 * tool calls and results, errors, retries and input requests one line each on stderr. JSON mode:
 * every canonical event line on stdout exactly as the server sent it, nothing else.
 */
export class TurnRenderer {
  private wroteText = false;
  private atLineStart = true;

  constructor(
    private readonly json: boolean,
    private readonly io: TurnIo,
  ) {}

  show(message: StreamMessage, typed: TypedMessage): void {
    if (this.json) {
      if (message.event === undefined) this.io.stdout(`${message.data}\n`);
      return;
    }
    if (typed.kind === "queue") {
      const { position, generating, limit } = typed.frame;
      if (position !== null)
        this.note(
          `[queue] waiting for a free slot: position ${position} (${generating} of ${limit} generating)`,
        );
      return;
    }
    if (typed.kind !== "event") return;
    const event = typed.event;
    switch (event.event) {
      case "stream.message_start":
        if (event.role === "assistant" && !this.atLineStart) this.text("\n");
        break;
      case "stream.text_delta":
        this.text(event.delta);
        break;
      case "tool.start":
        this.note(`[tool] ${event.name} ${inputSummary(event.input)}`.trimEnd());
        break;
      case "tool.end": {
        const took = event.duration_ms === undefined ? "" : ` (${event.duration_ms} ms)`;
        this.note(
          event.is_error
            ? `[tool] ${event.name} failed${took}: ${clip(event.output)}`
            : `[tool] ${event.name} done${took}`,
        );
        break;
      }
      case "agent.error":
        this.note(`[error] ${event.error}`);
        break;
      case "retry.start":
        this.note(
          `[retry] attempt ${event.attempt}/${event.max_attempts} in ${event.delay_ms / 1000} s: ${clip(event.error)}`,
        );
        break;
      case "agent.input_needed":
        this.note(`[input] the agent asks "${clip(event.request.title)}": answer it in the web UI`);
        break;
      case "notify":
        if (event.level !== "info") this.note(`[${event.level}] ${clip(event.message)}`);
        break;
      case "stream.resync_required":
        this.note(
          `[warning] ${event.dropped_count} events were lost (${event.reason}); the text above may be incomplete`,
        );
        break;
    }
  }

  /** A line of the client's own on stderr. */
  note(line: string): void {
    if (!this.atLineStart && this.io.stdoutIsTty) this.text("\n");
    this.io.stderr(line);
  }

  /** Ends the answer with a newline, so that a shell prompt starts on a line of its own. */
  finish(): void {
    if (this.wroteText && !this.atLineStart) this.text("\n");
  }

  private text(chunk: string): void {
    if (chunk === "") return;
    this.io.stdout(chunk);
    this.wroteText = true;
    this.atLineStart = chunk.endsWith("\n");
  }
}
