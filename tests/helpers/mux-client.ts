/** A WebSocket client of `/api/ws/mux` for tests: sends commands, records every frame, waits for frames. */
export type Frame = Record<string, unknown> & { channel?: string; event?: string; type?: string };

export class MuxClient {
  readonly frames: Frame[] = [];
  private waiters: Array<{ test: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  private nextId = 1;
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
    );
  }

  static async connect(url: string, token?: string, headers?: Record<string, string>): Promise<MuxClient> {
    const target = token ? `${url}?token=${encodeURIComponent(token)}` : url;
    // Bun's WebSocket accepts `{headers}` as its second argument (an extension of the DOM API).
    const ws = new WebSocket(target, (headers ? { headers } : undefined) as unknown as string[]);
    const client = new MuxClient(ws);
    const connected = client.waitFor((f) => f.channel === "system" && f.type === "connected", 10_000);
    // A refused upgrade rejects below; the wait for `connected` must not fail later, unhandled.
    connected.catch(() => {});
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("websocket failed to open")), { once: true });
    });
    await connected;
    return client;
  }

  /** Resolves with the first frame (already received or future) matching `test`. */
  waitFor(test: (f: Frame) => boolean, timeoutMs = 30_000, fromIndex = 0): Promise<Frame> {
    const seen = this.frames.slice(fromIndex).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for a frame; last frames: ${this.tail()}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Sends an agent command and resolves with its response. */
  async command(
    sessionId: string,
    cmd: string,
    payload: Record<string, unknown> = {},
    timeoutMs = 60_000,
  ): Promise<Frame> {
    const id = `t${this.nextId++}`;
    const response = this.waitFor(
      (f) => f.event === "response" && f.id === id,
      timeoutMs,
      this.frames.length,
    );
    this.ws.send(JSON.stringify({ channel: "agent", id, session_id: sessionId, cmd, ...payload }));
    return response;
  }

  /** Opens a terminal (80×24 unless `extra` says otherwise) and resolves with the reply: `opened` or `error`. */
  openTerminal(
    workspacePath: string,
    extra: Record<string, unknown> = {},
    timeoutMs = 15_000,
  ): Promise<Frame> {
    const id = `t${this.nextId++}`;
    const reply = this.waitFor((f) => f.channel === "terminal" && f.id === id, timeoutMs, this.frames.length);
    this.ws.send(
      JSON.stringify({
        channel: "terminal",
        id,
        type: "open",
        workspace_path: workspacePath,
        cols: 80,
        rows: 24,
        ...extra,
      }),
    );
    return reply;
  }

  /** Waits for an event of a session, searching from `fromIndex`. */
  event(sessionId: string, event: string, fromIndex = 0, timeoutMs = 30_000): Promise<Frame> {
    return this.waitFor((f) => f.session_id === sessionId && f.event === event, timeoutMs, fromIndex);
  }

  /** Broadcast agent events of one session (responses excluded), in arrival order. */
  events(sessionId: string): Frame[] {
    return this.frames.filter(
      (f) => f.channel === "agent" && f.session_id === sessionId && f.event !== "response",
    );
  }

  send(raw: string): void {
    this.ws.send(raw);
  }

  close(): void {
    this.ws.close();
  }

  private tail(): string {
    return JSON.stringify(this.frames.slice(-5)).slice(0, 2000);
  }
}

/** A fresh session id in the UI's format. */
export function newSessionId(): string {
  return `oqto-${Bun.randomUUIDv7()}`;
}
