import { ClientError, EXIT } from "./client-error.ts";
import type { OqtoApi } from "./oqto-api.ts";
import { readSse, type SseMessage } from "./sse-reader.ts";

/** The server sends `: ping` every 15 s: three missed means the connection is dead, not quiet. */
const SILENCE_LIMIT_MS = 45_000;
/** Waits before each reconnect attempt; after the last the stream is given up (about 15 s in all). */
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000];

/** A message of the stream with its data parsed (`{}` when it is not a JSON object). */
export interface StreamMessage extends SseMessage {
  json: Record<string, unknown>;
}

function parseData(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export interface FollowerHooks {
  /** A dropped connection is being resumed (attempt counts from 1). */
  onReconnect?: (attempt: number, reason: string) => void;
}

/**
 * Follows one session's event stream (`GET /api/sessions/{id}/events`): a dropped connection is
 * resumed with `Last-Event-ID` set to the last seq received, so that nothing is lost or seen twice;
 * it ends after the session's `session.closed`, or when `close()` is called.
 */
export class EventFollower {
  private lastSeq: number | undefined;
  private connection: AbortController;
  private stopped = false;
  private sessionClosed = false;

  private constructor(
    private readonly api: OqtoApi,
    private readonly sessionId: string,
    private response: Response,
    connection: AbortController,
    after: number | undefined,
    private readonly hooks: FollowerHooks,
  ) {
    this.lastSeq = after;
    this.connection = connection;
  }

  /** Subscribes; resolves once the server has the subscription (so a prompt sent now is not missed). */
  static async connect(
    api: OqtoApi,
    sessionId: string,
    after: number | undefined,
    hooks: FollowerHooks = {},
  ): Promise<EventFollower> {
    const connection = new AbortController();
    const response = await api.events(sessionId, after, connection.signal);
    return new EventFollower(api, sessionId, response, connection, after, hooks);
  }

  /** Ends the stream: `messages()` returns after the message it is on. */
  close(): void {
    this.stopped = true;
    this.connection.abort();
  }

  async *messages(): AsyncGenerator<StreamMessage> {
    for (;;) {
      const reason = yield* this.readConnection();
      if (this.stopped || this.sessionClosed) return;
      await this.reconnect(reason);
      if (this.stopped) return;
    }
  }

  /** Yields the current connection's messages; resolves with why it ended. */
  private async *readConnection(): AsyncGenerator<StreamMessage, string> {
    const body = this.response.body;
    if (!body) return "the server sent no stream";
    let silence: Timer | undefined;
    let silent = false;
    const armSilence = () => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        silent = true;
        this.connection.abort();
      }, SILENCE_LIMIT_MS);
    };
    armSilence();
    try {
      for await (const message of readSse(body, armSilence)) {
        const json = parseData(message.data);
        if (message.id !== undefined) {
          const seq = Number(message.id);
          // The client rule (PROTOCOL.md §1.2): a broadcast event at or below the last seq is a duplicate.
          if (this.lastSeq !== undefined && seq <= this.lastSeq) continue;
          this.lastSeq = seq;
        }
        // A new stream (the runner restarted) counts from 1 again.
        if (json.event === "stream.resync_required" && json.reason === "epoch_changed")
          this.lastSeq = undefined;
        if (json.event === "session.closed") this.sessionClosed = true;
        yield { ...message, json };
        if (this.stopped) return "closed";
      }
      return "the server ended the stream";
    } catch (error) {
      return silent ? `no data for ${SILENCE_LIMIT_MS / 1000} s` : (error as Error).message;
    } finally {
      clearTimeout(silence);
    }
  }

  private async reconnect(reason: string): Promise<void> {
    let lastFailure = reason;
    for (const [index, delay] of RECONNECT_DELAYS_MS.entries()) {
      this.hooks.onReconnect?.(index + 1, lastFailure);
      await Bun.sleep(delay);
      if (this.stopped) return;
      const connection = new AbortController();
      this.connection = connection;
      try {
        this.response = await this.api.events(this.sessionId, this.lastSeq, connection.signal);
        return;
      } catch (error) {
        if (this.stopped) return;
        // A rejected token or a session gone are answers: retry only what a restart would cause.
        const transient =
          error instanceof ClientError &&
          (error.exitCode === EXIT.unreachable || (error.status !== undefined && error.status >= 500));
        if (!transient) throw error;
        lastFailure = error.message;
      }
    }
    throw new ClientError(`lost the event stream: ${lastFailure}`, EXIT.unreachable);
  }
}
