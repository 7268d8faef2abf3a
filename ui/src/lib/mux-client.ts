import { signal } from "@preact/signals";
import type { z } from "zod";
import type { AgentEvent, AgentQueueFrame, Command, ErrorCode } from "../../../src/protocol/index.ts";
import { reconnectDelayMs } from "./backoff.ts";
import {
  ChannelError,
  type ChannelFrame,
  parseIncomingFrame,
  type ResponseFrame,
  type TypedChannel,
} from "./mux-frames.ts";

export type ConnectionState = "offline" | "connecting" | "connected" | "reconnecting";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/**
 * A command as the UI writes it; the client assigns the correlation id. The reserved `delegate*`
 * commands are left out: their open shape would erase every other command's fields under `Omit`.
 */
export type OutgoingCommand = DistributiveOmit<
  Exclude<Command, { cmd: "delegate" | "delegate.cancel" }>,
  "id"
>;

/** Failure of a command: the server's `error_code`, or `connection_lost` / `timeout` / `bad_response` locally. */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode | "connection_lost" | "bad_response",
    message: string,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

interface PendingCommand {
  readonly frame: string;
  readonly resolve: (data: unknown) => void;
  readonly reject: (error: CommandError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  sent: boolean;
}

// The server answers every command itself within its own timeout (45 s, longer for a few); these local
// limits only catch a reply that never comes, so they sit above the server's.
const COMMAND_TIMEOUT_MS: Partial<Record<Command["cmd"], number>> = {
  "session.create": 70_000,
  compact: 310_000,
};
const DEFAULT_COMMAND_TIMEOUT_MS = 55_000;
// Typed channels: the server gives up on files after 30 s and on history after 10 s (PROTOCOL.md §2.6).
const CHANNEL_TIMEOUT_MS: Record<TypedChannel, number> = {
  files: 35_000,
  history: 15_000,
  terminal: DEFAULT_COMMAND_TIMEOUT_MS,
};
const DEFAULT_PING_INTERVAL_MS = 10_000;

export interface MuxClientOptions {
  /** WebSocket URL of `/api/ws/mux` (same origin; the auth cookie goes with the upgrade). */
  url: () => string;
  /** Called when a socket closes before the server greeted it: maybe the session expired. */
  onHandshakeFailed: () => void;
}

/**
 * The browser end of the multiplexed WebSocket (PROTOCOL.md §2): one socket, reconnect with backoff,
 * exactly-one-reply correlation for agent commands, and per-session event fan-out.
 */
export class MuxClient {
  readonly state = signal<ConnectionState>("offline");
  private socket: WebSocket | null = null;
  private running = false;
  private greeted = false;
  private attempt = 0;
  private counter = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private livenessTimer: ReturnType<typeof setTimeout> | undefined;
  private livenessMs = 3 * DEFAULT_PING_INTERVAL_MS;
  private readonly pending = new Map<string, PendingCommand>();
  private readonly sessionListeners = new Map<string, Set<(event: AgentEvent) => void>>();
  private readonly queueListeners = new Map<string, Set<(frame: AgentQueueFrame) => void>>();
  private readonly readyListeners = new Set<() => void>();
  private readonly channelListeners = new Map<TypedChannel, Set<(frame: ChannelFrame) => void>>();

  constructor(private readonly options: MuxClientOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    window.addEventListener("online", this.reconnectNow);
    this.connect();
  }

  stop(): void {
    this.running = false;
    window.removeEventListener("online", this.reconnectNow);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.livenessTimer);
    this.socket?.close(1000, "signed out");
    this.socket = null;
    this.greeted = false;
    this.failAll(new CommandError("connection_lost", "Disconnected"), true);
    this.state.value = "offline";
  }

  /**
   * Sends a command and resolves with its reply's `data`, validated by `schema`. Commands issued while
   * the socket is down wait for the next connection (until their timeout).
   */
  command<T>(command: OutgoingCommand, schema: z.ZodType<T>): Promise<T> {
    const timeoutMs = COMMAND_TIMEOUT_MS[command.cmd] ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return this.enqueue(command.cmd, schema, timeoutMs, (id) => ({ channel: "agent", id, ...command }));
  }

  /**
   * Sends a request on a typed channel (`{channel, id, type, ...}`) and resolves with its reply frame,
   * validated by `schema`; an `error` reply rejects with its code. Waits for a connection like `command`.
   */
  request<T>(
    channel: TypedChannel,
    body: { type: string } & Record<string, unknown>,
    schema: z.ZodType<T>,
  ): Promise<T> {
    return this.enqueue(`${channel} ${body.type}`, schema, CHANNEL_TIMEOUT_MS[channel], (id) => ({
      channel,
      id,
      ...body,
    }));
  }

  /**
   * Sends a typed-channel frame that has no reply on success (terminal input and resize). Returns
   * false when there is no connection: such frames are not worth holding, the state they carry is redone
   * on reconnect.
   */
  post(channel: TypedChannel, body: { type: string } & Record<string, unknown>): boolean {
    if (!this.socket || !this.greeted) return false;
    this.socket.send(JSON.stringify({ channel, ...body }));
    return true;
  }

  /** Receives the frames of a typed channel that answer no request of this client (pushes). */
  onChannelFrame(channel: TypedChannel, listener: (frame: ChannelFrame) => void): () => void {
    let listeners = this.channelListeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.channelListeners.set(channel, listeners);
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  private enqueue<T>(
    label: string,
    schema: z.ZodType<T>,
    timeoutMs: number,
    frameFor: (id: string) => object,
  ): Promise<T> {
    if (!this.running)
      return Promise.reject(new CommandError("connection_lost", "Not connected (signed out)"));
    this.counter += 1;
    const id = `c${this.counter}`;
    const frame = JSON.stringify(frameFor(id));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CommandError("timeout", `No reply to ${label} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, {
        frame,
        timer,
        sent: false,
        reject,
        resolve: (data) => {
          const parsed = schema.safeParse(data);
          if (parsed.success) resolve(parsed.data);
          else reject(new CommandError("bad_response", `Unexpected reply to ${label}`));
        },
      });
      if (this.greeted) this.send(id);
    });
  }

  /** Receives the broadcast and addressed events of one session (replies go to `command`). */
  onSessionEvent(sessionId: string, listener: (event: AgentEvent) => void): () => void {
    let listeners = this.sessionListeners.get(sessionId);
    if (!listeners) {
      listeners = new Set();
      this.sessionListeners.set(sessionId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.sessionListeners.delete(sessionId);
    };
  }

  /** Receives the admission queue frames of one session (PROTOCOL.md §2.2.1). */
  onSessionQueue(sessionId: string, listener: (frame: AgentQueueFrame) => void): () => void {
    let listeners = this.queueListeners.get(sessionId);
    if (!listeners) {
      listeners = new Set();
      this.queueListeners.set(sessionId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.queueListeners.delete(sessionId);
    };
  }

  /** Called after each successful (re)connection, once the server has greeted the socket. */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  private connect(): void {
    clearTimeout(this.reconnectTimer);
    this.state.value = this.attempt === 0 ? "connecting" : "reconnecting";
    const socket = new WebSocket(this.options.url());
    this.socket = socket;
    socket.onmessage = (message) => {
      if (this.socket !== socket || typeof message.data !== "string") return;
      this.armLiveness();
      this.receive(message.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.handleClose();
    };
    this.armLiveness();
  }

  private readonly reconnectNow = (): void => {
    if (this.running && !this.socket) {
      this.attempt = 0;
      this.connect();
    }
  };

  private handleClose(): void {
    const wasGreeted = this.greeted;
    this.socket = null;
    this.greeted = false;
    clearTimeout(this.livenessTimer);
    // Commands already written may or may not have run: fail them. Unsent ones wait for the next socket.
    this.failAll(new CommandError("connection_lost", "Connection lost before the reply arrived"), false);
    if (!this.running) return;
    if (!wasGreeted) this.options.onHandshakeFailed();
    if (!this.running) return;
    this.state.value = "reconnecting";
    const delay = reconnectDelayMs(this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** No frame (not even the 10 s ping) for three intervals: the socket is dead even if the browser has not noticed. */
  private armLiveness(): void {
    clearTimeout(this.livenessTimer);
    this.livenessTimer = setTimeout(() => this.socket?.close(4000, "no ping"), this.livenessMs);
  }

  private receive(text: string): void {
    const frame = parseIncomingFrame(text);
    switch (frame.kind) {
      case "system":
        if (frame.frame.type === "connected") this.handleGreeting(frame.frame.ping_interval_ms);
        else if (frame.frame.type === "error" && frame.frame.id)
          this.settleError(frame.frame.id, frame.frame.error);
        return;
      case "response":
        this.settle(frame.frame);
        return;
      case "event":
        for (const listener of this.sessionListeners.get(frame.event.session_id) ?? []) listener(frame.event);
        return;
      case "queue":
        for (const listener of this.queueListeners.get(frame.frame.session_id) ?? []) listener(frame.frame);
        return;
      case "channel":
        if (frame.frame.id !== undefined && this.pending.has(frame.frame.id)) this.settleChannel(frame.frame);
        else
          for (const listener of this.channelListeners.get(frame.frame.channel) ?? []) listener(frame.frame);
        return;
      case "ignored":
        console.warn(`oqto: dropped a WebSocket frame (${frame.reason})`);
        return;
    }
  }

  private handleGreeting(pingIntervalMs: number): void {
    this.greeted = true;
    this.attempt = 0;
    this.livenessMs = 3 * (pingIntervalMs > 0 ? pingIntervalMs : DEFAULT_PING_INTERVAL_MS);
    this.armLiveness();
    this.state.value = "connected";
    for (const [id, pending] of this.pending) if (!pending.sent) this.send(id);
    for (const listener of this.readyListeners) listener();
  }

  private send(id: string): void {
    const pending = this.pending.get(id);
    if (!pending || !this.socket) return;
    pending.sent = true;
    this.socket.send(pending.frame);
  }

  private settle(response: ResponseFrame): void {
    if (!response.id) return;
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    clearTimeout(pending.timer);
    if (response.success) pending.resolve(response.data);
    else
      pending.reject(
        new CommandError(response.error_code ?? "internal", response.error ?? `${response.cmd} failed`),
      );
  }

  private settleChannel(frame: ChannelFrame): void {
    const pending = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (!pending || frame.id === undefined) return;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    const error = frame.type === "error" ? ChannelError.safeParse(frame) : null;
    if (error?.success) pending.reject(new CommandError(error.data.code, error.data.error));
    else if (error) pending.reject(new CommandError("bad_response", `Malformed ${frame.channel} error`));
    else pending.resolve(frame);
  }

  private settleError(id: string, message: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(new CommandError("invalid_request", message));
  }

  private failAll(error: CommandError, includeUnsent: boolean): void {
    for (const [id, pending] of this.pending) {
      if (!pending.sent && !includeUnsent) continue;
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
  }
}
