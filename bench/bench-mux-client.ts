import type { Track } from "./delta-tracking.ts";

export type Frame = Record<string, unknown> & { event?: string; session_id?: string; id?: string };

/** One WebSocket for every session: commands with responses, and each frame's arrival time. */
export class BenchMuxClient {
  private pending = new Map<string, (frame: Frame) => void>();
  private nextId = 1;
  readonly tracks = new Map<string, Track>();
  readonly idle = new Map<string, () => void>();
  readonly created = new Set<string>();
  resyncs = 0;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const at = performance.now();
      const frame = JSON.parse(String(event.data)) as Frame;
      const sessionId = frame.session_id ?? "";
      switch (frame.event) {
        case "stream.text_delta": {
          const track = this.tracks.get(sessionId);
          if (track && typeof frame.delta === "string") {
            if (typeof frame.seq_from === "number" && frame.seq_from !== frame.seq) track.coalesced++;
            track.feed(frame.delta, at);
          }
          break;
        }
        case "response": {
          const resolveResponse = this.pending.get(String(frame.id));
          this.pending.delete(String(frame.id));
          resolveResponse?.(frame);
          break;
        }
        case "agent.idle":
          this.idle.get(sessionId)?.();
          break;
        case "session.created":
          this.created.add(sessionId);
          break;
        case "stream.resync_required":
          this.resyncs++;
          break;
      }
    });
  }

  static async connect(url: string, token: string): Promise<BenchMuxClient> {
    const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
    const client = new BenchMuxClient(ws);
    await new Promise<void>((resolveOpen, reject) => {
      ws.addEventListener("open", () => resolveOpen(), { once: true });
      ws.addEventListener("error", () => reject(new Error("websocket failed to open")), { once: true });
    });
    return client;
  }

  command(sessionId: string, cmd: string, payload: Record<string, unknown> = {}): Promise<Frame> {
    const id = `b${this.nextId++}`;
    return new Promise((resolveResponse, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd} ${sessionId}: no response`)), 120_000);
      this.pending.set(id, (frame) => {
        clearTimeout(timer);
        resolveResponse(frame);
      });
      this.ws.send(JSON.stringify({ channel: "agent", id, session_id: sessionId, cmd, ...payload }));
    });
  }

  /** Resolves on the session's next agent.idle. */
  nextIdle(sessionId: string): Promise<void> {
    return new Promise((resolveIdle, reject) => {
      const timer = setTimeout(() => reject(new Error(`${sessionId}: no agent.idle`)), 180_000);
      this.idle.set(sessionId, () => {
        clearTimeout(timer);
        this.idle.delete(sessionId);
        resolveIdle();
      });
    });
  }
}
