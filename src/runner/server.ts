import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import type { z } from "zod";
import {
  describeZodError,
  isCompatibleVersion,
  MAX_DATA_FRAME_HEADER_BYTES,
  MAX_DATA_FRAME_PAYLOAD_BYTES,
  MAX_RUNNER_LINE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  parseDataFrameHeader,
  RUNNER_HEARTBEAT_MS,
  RUNNER_HELLO_TIMEOUT_MS,
  RUNNER_SILENCE_LIMIT_MS,
  type RunnerHello,
  type RunnerMethod,
  RunnerMethods,
  ServerFrame,
  ServerHello,
} from "../protocol/index.ts";
import { LineConnection } from "../shared/line-connection.ts";
import { listenLines } from "../shared/unix-socket.ts";
import type { MethodHandler, MethodTable } from "./methods/types.ts";

/** Bytes the server may leave unread before the runner drops the connection. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Data frames wait while this much is unread by the server (socket backpressure on transfers). */
const DATA_SEND_AHEAD_BYTES = 4 * 1024 * 1024;

export interface RunnerServerOptions {
  socketPath: string;
  /** 0o600 (single-user: the runner's user only) or 0o660 (multi-user: also the server's group, set by the directory). */
  socketMode: 0o600 | 0o660;
  hello: Omit<RunnerHello, "type" | "protocol_version" | "role">;
  /** Handlers of every method except `runner.*`, which the server answers itself. */
  methods: MethodTable<Exclude<RunnerMethod, "runner.status" | "runner.shutdown">>;
  /** Live counts for `runner.status` and heartbeats. */
  status: () => { sessions: unknown[]; terminals: number; history: { mode: string; ok: boolean } };
  /** Stops everything the runner owns (sessions, terminals, transfers). */
  shutdown: (graceS?: number) => Promise<void>;
  /** The server connection dropped: its subscriptions end. */
  onServerGone: () => void;
  /** A server connection has completed its hello: what it must know first is pushed here. */
  onServerConnected?: () => void;
  /** A piece of a data frame of an upload the server streams (data-frames.ts). */
  onData: (streamId: string, piece: Uint8Array) => void;
  log: (message: string) => void;
}

interface ConnectionState {
  conn: LineConnection;
  helloDone: boolean;
  helloTimer: Timer;
}

/**
 * The runner's side of the runner protocol (PROTOCOL.md §3) on a unix socket. One server
 * connection is active at a time: a new one (a restarted `oqto serve`) replaces the old.
 */
export class RunnerServer {
  private listener: UnixSocketListener<ConnectionState> | TCPSocketListener<ConnectionState> | undefined;
  private active: ConnectionState | undefined;
  private heartbeat: Timer | undefined;
  private readonly handlers: MethodTable<RunnerMethod>;

  constructor(private readonly options: RunnerServerOptions) {
    this.handlers = {
      ...options.methods,
      "runner.status": () => ({
        runner_id: options.hello.runner_id,
        version: options.hello.runner_version,
        uptime_s: Math.round((Date.now() - options.hello.started_at) / 1000),
        ...options.status(),
      }),
      "runner.shutdown": async ({ grace_s }) => {
        await options.shutdown(grace_s);
        return {};
      },
    };
  }

  start(): void {
    const { socketPath } = this.options;
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
    this.listener = listenLines<ConnectionState>(
      socketPath,
      this.options.socketMode,
      (socket) => this.onOpen(socket),
      (error) => this.options.log(`runner socket error: ${error.message}`),
    );
    this.heartbeat = setInterval(() => this.tick(), RUNNER_HEARTBEAT_MS);
  }

  async stop(graceS = 3): Promise<void> {
    clearInterval(this.heartbeat);
    await this.options.shutdown(graceS);
    this.active?.conn.close("runner stopping");
    this.listener?.stop(true);
    rmSync(this.options.socketPath, { force: true });
  }

  /** Forwards an event line of a subscribed session to the active server connection. */
  forwardEvent(line: string): void {
    if (this.active?.helloDone) this.active.conn.send(line);
  }

  /** Sends an unsolicited frame (file_changed, terminal output) to the active server connection. */
  push(frame: Record<string, unknown>): void {
    if (this.active?.helloDone) this.active.conn.sendJson(frame);
  }

  /** Sends one data frame of a transfer once the socket has room; false without a server connection. */
  async sendData(streamId: string, payload: Uint8Array): Promise<boolean> {
    const conn = this.active?.helloDone ? this.active.conn : undefined;
    if (!conn) return false;
    await conn.whenWritable(DATA_SEND_AHEAD_BYTES);
    return conn.sendBinary(JSON.stringify({ stream_id: streamId }), payload);
  }

  private onOpen(socket: Socket<ConnectionState>): void {
    const state = {} as ConnectionState;
    state.helloDone = false;
    state.conn = new LineConnection(socket as Socket<unknown>, {
      maxLineBytes: MAX_RUNNER_LINE_BYTES,
      maxQueuedBytes: MAX_QUEUED_BYTES,
      onLine: (line) => this.onLine(state, line),
      onClose: (reason) => this.onClose(state, reason),
      binary: {
        onPayload: (header, piece) => this.onDataFrame(state, header, piece),
        maxHeaderBytes: MAX_DATA_FRAME_HEADER_BYTES,
        maxPayloadBytes: MAX_DATA_FRAME_PAYLOAD_BYTES,
      },
    });
    state.helloTimer = setTimeout(() => {
      if (!state.helloDone) this.fail(state, "invalid_request", "no hello within 5 s");
    }, RUNNER_HELLO_TIMEOUT_MS);
    socket.data = state;
  }

  private onClose(state: ConnectionState, reason: string): void {
    clearTimeout(state.helloTimer);
    if (this.active === state) {
      this.active = undefined;
      this.options.onServerGone();
      this.options.log(`server connection closed: ${reason}`);
    }
  }

  private onLine(state: ConnectionState, line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.fail(state, "invalid_request", "frame is not JSON");
      return;
    }
    if (!state.helloDone) {
      this.onHello(state, raw);
      return;
    }
    const frame = ServerFrame.safeParse(raw);
    if (!frame.success) {
      this.fail(state, "invalid_request", `invalid frame: ${describeZodError(frame.error)}`);
      return;
    }
    if (frame.data.type === "request")
      void this.onRequest(state, frame.data.id, frame.data.method, frame.data.params);
  }

  private onDataFrame(state: ConnectionState, header: string, piece: Uint8Array): void {
    const parsed = parseDataFrameHeader(header);
    if (!state.helloDone || !parsed) {
      this.fail(state, "invalid_request", "invalid data frame header");
      return;
    }
    this.options.onData(parsed.stream_id, piece);
  }

  private onHello(state: ConnectionState, raw: unknown): void {
    const hello = ServerHello.safeParse(raw);
    if (!hello.success) {
      this.fail(state, "invalid_request", `expected hello: ${describeZodError(hello.error)}`);
      return;
    }
    if (!isCompatibleVersion(hello.data.protocol_version)) {
      this.fail(state, "unsupported_version", `runner speaks protocol ${PROTOCOL_VERSION}`);
      return;
    }
    clearTimeout(state.helloTimer);
    if (this.active && this.active !== state) {
      this.active.conn.close("replaced by a new server connection");
      this.options.onServerGone();
    }
    state.helloDone = true;
    this.active = state;
    state.conn.sendJson({
      type: "hello",
      protocol_version: PROTOCOL_VERSION,
      role: "runner",
      ...this.options.hello,
    });
    this.options.onServerConnected?.();
  }

  private async onRequest(
    state: ConnectionState,
    id: string,
    method: string,
    params: unknown,
  ): Promise<void> {
    const spec = RunnerMethods[method as RunnerMethod] as { params: z.ZodType } | undefined;
    if (!spec) {
      state.conn.sendJson({
        type: "response",
        id,
        ok: false,
        error: { code: "unknown_method", message: method },
      });
      return;
    }
    const parsed = spec.params.safeParse(params ?? {});
    if (!parsed.success) {
      const message = `invalid params for ${method}: ${describeZodError(parsed.error)}`;
      state.conn.sendJson({ type: "response", id, ok: false, error: { code: "invalid_request", message } });
      return;
    }
    try {
      const handler = this.handlers[method as RunnerMethod] as MethodHandler<RunnerMethod>;
      const result = await handler(parsed.data as never);
      state.conn.sendJson({ type: "response", id, ok: true, result });
    } catch (error) {
      const known = error instanceof ProtocolError;
      if (!known) this.options.log(`${method} failed: ${(error as Error).stack ?? error}`);
      const body = known
        ? { code: error.code, message: error.message }
        : { code: "internal", message: `${method} failed: ${(error as Error).message}` };
      state.conn.sendJson({ type: "response", id, ok: false, error: body });
    }
  }

  private fail(state: ConnectionState, code: string, message: string): void {
    state.conn.sendJson({ type: "error", code, message });
    state.conn.close(message);
  }

  private tick(): void {
    const state = this.active;
    if (!state) return;
    if (Date.now() - state.conn.lastReceivedAt > RUNNER_SILENCE_LIMIT_MS) {
      state.conn.close("server silent for 30 s");
      return;
    }
    const status = this.options.status();
    state.conn.sendJson({
      type: "heartbeat",
      ts: Date.now(),
      sessions: status.sessions.length,
      terminals: status.terminals,
      rss_bytes: process.memoryUsage.rss(),
    });
  }
}
