import type { ServerWebSocket, WebSocketHandler } from "bun";
import { MAX_MUX_FRAME_BYTES, MuxChannel, PROTOCOL_VERSION } from "../../protocol/index.ts";
import type { CredentialRef } from "../auth/index.ts";
import type { AgentChannel } from "./agent-channel.ts";
import type { FilesChannel } from "./files-channel.ts";
import type { HistoryChannel } from "./history-channel.ts";
import { MuxConnection, type SocketData } from "./mux-connection.ts";
import type { SessionHub } from "./session-hub.ts";
import type { TerminalChannel } from "./terminal-channel.ts";

export const PING_INTERVAL_MS = 10_000;
/** Bun closes a socket that sent nothing (not even a pong) for this long. */
const IDLE_TIMEOUT_S = 30;

export interface MuxServerOptions {
  agent: AgentChannel;
  history: HistoryChannel;
  files: FilesChannel;
  terminal: TerminalChannel;
  hub: SessionHub;
  /** Whether a socket's user and credential still hold; checked on every ping round. */
  stillValid: (userId: string, credential: CredentialRef) => boolean;
  serverVersion: string;
  log: (message: string) => void;
}

/** Close code of a socket whose user was signed out, deactivated or deleted, or whose key was revoked. */
export const CLOSE_REVOKED = 4001;

/** The multiplexed WebSocket `/api/ws/mux` (PROTOCOL.md §2): framing, channels, keepalive. */
export class MuxServer {
  private readonly connections = new Set<MuxConnection>();
  private pinger: Timer | undefined;

  constructor(private readonly options: MuxServerOptions) {}

  start(): void {
    this.pinger = setInterval(() => {
      const frame = JSON.stringify({ channel: "system", type: "ping", ts: Date.now() });
      for (const conn of this.connections) {
        // Catches revocations made outside this process too (`oqto user disable` on the DB).
        if (!this.options.stillValid(conn.user.id, conn.ws.data.credential)) {
          conn.ws.close(CLOSE_REVOKED, "credentials revoked");
          continue;
        }
        conn.send(frame);
      }
    }, PING_INTERVAL_MS);
  }

  /** Closes every socket of `userId` at once (sign-out, deactivation, deletion, password change). */
  closeUser(userId: string): void {
    for (const conn of this.connections)
      if (conn.user.id === userId) conn.ws.close(CLOSE_REVOKED, "credentials revoked");
  }

  stop(): void {
    clearInterval(this.pinger);
    for (const conn of this.connections) conn.ws.close(1001, "server stopping");
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Tells the sockets of `userId` (everyone's, for the one shared runner) that their runner went away or came back. */
  broadcastRunnerStatus(state: "connected" | "disconnected", userId?: string): void {
    const frame = JSON.stringify({ channel: "system", type: "runner_status", runner_id: "local", state });
    for (const conn of this.connections)
      if (userId === undefined || conn.user.id === userId) conn.send(frame);
  }

  hasConnectionsOf(userId: string): boolean {
    for (const conn of this.connections) if (conn.user.id === userId) return true;
    return false;
  }

  websocket(): WebSocketHandler<SocketData> {
    return {
      // Frames up to the limit get a clear error; far larger ones are cut off by Bun itself.
      maxPayloadLength: MAX_MUX_FRAME_BYTES + 1024 * 1024,
      idleTimeout: IDLE_TIMEOUT_S,
      sendPings: true,
      perMessageDeflate: false,
      open: (ws) => this.onOpen(ws),
      message: (ws, message) => this.onMessage(ws, message),
      close: (ws) => this.onClose(ws),
      drain: (ws) => this.onDrain(ws),
    };
  }

  private onOpen(ws: ServerWebSocket<SocketData>): void {
    const conn = new MuxConnection(ws, ws.data.user);
    ws.data.connection = conn;
    this.connections.add(conn);
    conn.sendJson({
      channel: "system",
      type: "connected",
      protocol_version: PROTOCOL_VERSION,
      server_version: this.options.serverVersion,
      user: conn.user,
      ping_interval_ms: PING_INTERVAL_MS,
    });
  }

  private onMessage(ws: ServerWebSocket<SocketData>, message: string | Buffer): void {
    const conn = ws.data.connection;
    if (!conn) return;
    if (typeof message !== "string") {
      conn.sendError("system", "invalid_request", "binary frames are not supported; send JSON text frames");
      return;
    }
    if (message.length > MAX_MUX_FRAME_BYTES && Buffer.byteLength(message) > MAX_MUX_FRAME_BYTES) {
      conn.sendError("system", "too_large", `frame exceeds ${MAX_MUX_FRAME_BYTES} bytes`);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(message);
    } catch {
      conn.sendError("system", "invalid_request", "frame is not valid JSON");
      return;
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
      conn.sendError("system", "invalid_request", "frame must be a JSON object");
      return;
    }
    const body = frame as Record<string, unknown>;
    const id = typeof body.id === "string" ? body.id : undefined;
    const channel = MuxChannel.safeParse(body.channel);
    if (!channel.success) {
      conn.sendError("system", "invalid_request", `unknown channel ${JSON.stringify(body.channel)}`, id);
      return;
    }
    switch (channel.data) {
      case "agent":
        void this.options.agent.handle(conn, body);
        return;
      case "terminal":
        void this.options.terminal.handle(conn, body);
        return;
      case "files":
        void this.options.files.handle(conn, body);
        return;
      case "history":
        void this.options.history.handle(conn, body);
        return;
      case "system":
        conn.sendError("system", "invalid_request", "the system channel is server-to-client only", id);
        return;
    }
  }

  private onClose(ws: ServerWebSocket<SocketData>): void {
    const conn = ws.data.connection;
    if (!conn) return;
    conn.closed = true;
    conn.discard();
    this.connections.delete(conn);
    this.options.hub.detachAll(conn);
    this.options.files.release(conn);
    this.options.terminal.release(conn);
  }

  /** Bun has room again: the socket's queued frames go out (and a slow consumer that caught up resyncs). */
  private onDrain(ws: ServerWebSocket<SocketData>): void {
    const conn = ws.data.connection;
    conn?.onDrain((sessionId, dropped, currentSeq) =>
      this.options.agent.sendResync(conn, sessionId, "slow_consumer", dropped, currentSeq),
    );
  }
}
