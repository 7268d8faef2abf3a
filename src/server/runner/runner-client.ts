import type { Socket } from "bun";
import {
  describeZodError,
  type ErrorCode,
  isCompatibleVersion,
  MAX_DATA_FRAME_HEADER_BYTES,
  MAX_DATA_FRAME_PAYLOAD_BYTES,
  MAX_RUNNER_LINE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  parseDataFrameHeader,
  RUNNER_EVENT_PREFIX,
  RUNNER_HEARTBEAT_MS,
  RUNNER_HELLO_TIMEOUT_MS,
  RUNNER_SILENCE_LIMIT_MS,
  RunnerFrame,
  RunnerHello,
  type RunnerMethod,
  type RunnerParams,
  type RunnerPush,
} from "../../protocol/index.ts";
import { LineConnection } from "../../shared/line-connection.ts";

const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** How long a request waits for a runner that is starting or restarting before failing. */
const RECONNECT_GRACE_MS = 5_000;
/** Upload data frames wait while this much is unread by the runner (socket backpressure). */
const DATA_SEND_AHEAD_BYTES = 4 * 1024 * 1024;

export interface RunnerClientOptions {
  socketPath: string;
  serverVersion: string;
  /** Raw event lines, unparsed (the relay hot path). */
  onEvent: (line: string) => void;
  /** `restarted`: the runner process differs from the one seen before (new epochs). */
  onConnected: (hello: RunnerHello, restarted: boolean) => void;
  onDisconnected: (reason: string) => void;
  /** Unsolicited runner frames (file changes; terminal output later). */
  onPush: (push: RunnerPush) => void;
  log: (message: string) => void;
  /** How long a request waits for a runner that is (re)starting; default 5 s. */
  readyGraceMs?: number;
}

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: ProtocolError) => void;
  timer: Timer;
}

/**
 * The server's connection to one runner: hello handshake, concurrent requests matched by id,
 * event lines passed through untouched, heartbeats, and reconnection with backoff.
 */
export class RunnerClient {
  private conn: LineConnection | undefined;
  private hello: RunnerHello | undefined;
  private ready = false;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private backoffMs = BACKOFF_MIN_MS;
  private stopped = false;
  private heartbeat: Timer | undefined;
  private reconnectTimer: Timer | undefined;
  private connecting = false;
  private readyWaiters: Array<() => void> = [];
  /** Receivers of the data frames of open transfers, by stream id. */
  private readonly dataSinks = new Map<string, (payload: Uint8Array) => void>();

  constructor(private readonly options: RunnerClientOptions) {}

  get isReady(): boolean {
    return this.ready;
  }

  get runnerHello(): RunnerHello | undefined {
    return this.hello;
  }

  start(): void {
    this.stopped = false;
    this.heartbeat = setInterval(() => this.tick(), RUNNER_HEARTBEAT_MS);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    this.conn?.close("server stopping");
  }

  /** Connects now instead of at the next backoff step (the runner was just started). */
  reconnectNow(): void {
    if (this.stopped || this.conn) return;
    clearTimeout(this.reconnectTimer);
    this.backoffMs = BACKOFF_MIN_MS;
    void this.connect();
  }

  /** Resolves once connected (or after `timeoutMs`, returning false). */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Sends a request; rejects with ProtocolError (`runner_unavailable`, `timeout`, or the runner's code).
   * While the runner is (re)starting, the request waits up to RECONNECT_GRACE_MS for it.
   */
  async request<M extends RunnerMethod>(
    method: M,
    params: RunnerParams<M>,
    timeoutMs: number,
  ): Promise<unknown> {
    const grace = this.options.readyGraceMs ?? RECONNECT_GRACE_MS;
    if (!this.ready && !(await this.waitReady(Math.min(timeoutMs, grace)))) {
      throw new ProtocolError("runner_unavailable", "the runner is not connected");
    }
    const conn = this.conn;
    if (!conn) throw new ProtocolError("runner_unavailable", "the runner is not connected");
    const id = `s${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError("timeout", `${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (!conn.sendJson({ type: "request", id, method, params })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ProtocolError("runner_unavailable", "the runner connection is closed"));
      }
    });
  }

  /** Routes the data frames of transfer `streamId` to `sink` until the returned function is called. */
  receiveData(streamId: string, sink: (payload: Uint8Array) => void): () => void {
    this.dataSinks.set(streamId, sink);
    return () => {
      if (this.dataSinks.get(streamId) === sink) this.dataSinks.delete(streamId);
    };
  }

  /** Sends one data frame of an upload once the socket has room; false when not connected. */
  async sendData(streamId: string, payload: Uint8Array): Promise<boolean> {
    const conn = this.ready ? this.conn : undefined;
    if (!conn) return false;
    await conn.whenWritable(DATA_SEND_AHEAD_BYTES);
    return conn.sendBinary(JSON.stringify({ stream_id: streamId }), payload);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    try {
      await Bun.connect<{ conn: LineConnection }>({
        unix: this.options.socketPath,
        socket: {
          open: (socket) => this.onOpen(socket),
          data: (socket, data) => socket.data.conn.receive(data),
          drain: (socket) => socket.data.conn.flush(),
          close: (socket) => socket.data?.conn.closedByPeer(),
          error: (_socket, error) => this.options.log(`runner connection error: ${error.message}`),
        },
      });
    } catch {
      this.scheduleReconnect();
    } finally {
      this.connecting = false;
    }
  }

  private onOpen(socket: Socket<{ conn: LineConnection }>): void {
    const conn = new LineConnection(socket as Socket<unknown>, {
      maxLineBytes: MAX_RUNNER_LINE_BYTES,
      maxQueuedBytes: MAX_QUEUED_BYTES,
      onLine: (line) => this.onLine(conn, line),
      onClose: (reason) => this.onClose(conn, reason),
      binary: {
        onPayload: (header, piece) => this.onDataFrame(conn, header, piece),
        maxHeaderBytes: MAX_DATA_FRAME_HEADER_BYTES,
        maxPayloadBytes: MAX_DATA_FRAME_PAYLOAD_BYTES,
      },
    });
    socket.data = { conn };
    this.conn = conn;
    conn.sendJson({
      type: "hello",
      protocol_version: PROTOCOL_VERSION,
      role: "server",
      server_version: this.options.serverVersion,
    });
    setTimeout(() => {
      if (this.conn === conn && !this.ready) conn.close("runner sent no hello within 5 s");
    }, RUNNER_HELLO_TIMEOUT_MS);
  }

  private onLine(conn: LineConnection, line: string): void {
    if (line.startsWith(RUNNER_EVENT_PREFIX)) {
      if (this.ready) this.options.onEvent(line);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.options.log("runner sent a frame that is not JSON; dropped");
      return;
    }
    if (!this.ready) {
      this.onHello(conn, raw);
      return;
    }
    const frame = RunnerFrame.safeParse(raw);
    if (!frame.success) {
      this.options.log(`runner sent an invalid frame: ${describeZodError(frame.error)}`);
      return;
    }
    const data = frame.data;
    if (data.type === "heartbeat") return;
    if (data.type === "error") {
      this.options.log(`runner error: ${data.code}: ${data.message}`);
      return;
    }
    if (data.type !== "response") {
      this.options.onPush(data);
      return;
    }
    const pending = this.pending.get(data.id);
    if (!pending) return; // late reply after a timeout
    this.pending.delete(data.id);
    clearTimeout(pending.timer);
    if (data.ok) pending.resolve(data.result);
    else pending.reject(new ProtocolError(data.error.code, data.error.message, data.error.details));
  }

  private onDataFrame(conn: LineConnection, header: string, piece: Uint8Array): void {
    const parsed = parseDataFrameHeader(header);
    if (!this.ready || !parsed) {
      conn.close("runner sent an invalid data frame");
      return;
    }
    // Frames of a transfer nobody reads any more (cancelled download) are dropped.
    this.dataSinks.get(parsed.stream_id)?.(piece);
  }

  private onHello(conn: LineConnection, raw: unknown): void {
    const hello = RunnerHello.safeParse(raw);
    if (!hello.success) {
      const maybeError = raw as { type?: string; message?: string };
      const why = maybeError?.type === "error" ? maybeError.message : describeZodError(hello.error);
      conn.close(`runner handshake failed: ${why}`);
      return;
    }
    if (!isCompatibleVersion(hello.data.protocol_version)) {
      conn.close(`runner speaks protocol ${hello.data.protocol_version}, server ${PROTOCOL_VERSION}`);
      return;
    }
    const previous = this.hello;
    const restarted =
      previous !== undefined &&
      (previous.pid !== hello.data.pid || previous.started_at !== hello.data.started_at);
    this.hello = hello.data;
    this.ready = true;
    this.backoffMs = BACKOFF_MIN_MS;
    for (const waiter of this.readyWaiters.splice(0)) waiter();
    this.options.onConnected(hello.data, restarted);
  }

  private onClose(conn: LineConnection, reason: string): void {
    if (this.conn !== conn) return;
    const wasReady = this.ready;
    this.conn = undefined;
    this.ready = false;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ProtocolError("runner_unavailable", `the runner connection closed: ${reason}`));
      this.pending.delete(id);
    }
    if (wasReady) this.options.onDisconnected(reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }

  private tick(): void {
    const conn = this.conn;
    if (!conn || !this.ready) return;
    if (Date.now() - conn.lastReceivedAt > RUNNER_SILENCE_LIMIT_MS) {
      conn.close("runner silent for 30 s");
      return;
    }
    conn.sendJson({ type: "heartbeat", ts: Date.now() });
  }
}

export function runnerErrorCode(error: unknown): ErrorCode {
  return error instanceof ProtocolError ? error.code : "internal";
}
