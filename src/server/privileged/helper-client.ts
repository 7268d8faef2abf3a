import type { Socket } from "bun";
import {
  HELPER_MAX_LINE_BYTES,
  HELPER_RESULT_SCHEMAS,
  type HelperOp,
  type HelperRequest,
  HelperResponse,
  type HelperResults,
} from "../../protocol/privileged.ts";
import { LineConnection } from "../../shared/line-connection.ts";

/** A request the helper answered with an error (`refused`, `invalid_request` or `failed`). */
export class HelperError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the server may ask of root in multi-user mode; the helper is the only implementation. */
export interface AccountProvisioner {
  ensureUser(user: string): Promise<HelperResults["ensure_user"]>;
  startRunner(user: string): Promise<HelperResults["start_runner"]>;
  stopRunner(user: string): Promise<HelperResults["stop_runner"]>;
  deleteUser(user: string, removeHome: boolean): Promise<HelperResults["delete_user"]>;
}

interface Pending {
  op: HelperOp;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: Timer;
}

/** How long each request may take: starting a runner waits for it to answer on its socket. */
const TIMEOUT_MS: Record<HelperOp, number> = {
  ensure_user: 15_000,
  start_runner: 45_000,
  stop_runner: 20_000,
  delete_user: 30_000,
};

/**
 * The unprivileged server's connection to the privileged helper. The server cannot do its job
 * without it, so a lost connection is the server's end (`onClosed`): the helper's process is
 * its parent, and a new one starts a new server.
 */
export class HelperClient implements AccountProvisioner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(
    private readonly conn: LineConnection,
    private readonly onClosed: (reason: string) => void,
  ) {}

  static async connect(socketPath: string, onClosed: (reason: string) => void): Promise<HelperClient> {
    let client: HelperClient | undefined;
    await Bun.connect<{ conn: LineConnection }>({
      unix: socketPath,
      socket: {
        open: (socket) => {
          const conn = new LineConnection(socket as Socket<unknown>, {
            maxLineBytes: HELPER_MAX_LINE_BYTES * 16,
            maxQueuedBytes: 1024 * 1024,
            onLine: (line) => client?.onLine(line),
            onClose: (reason) => client?.onClose(reason),
          });
          socket.data = { conn };
          client = new HelperClient(conn, onClosed);
        },
        data: (socket, data) => socket.data.conn.receive(data),
        drain: (socket) => socket.data.conn.flush(),
        close: (socket) => socket.data?.conn.closedByPeer(),
        error: () => {},
      },
    });
    if (!client) throw new Error(`could not connect to the privileged helper at ${socketPath}`);
    return client;
  }

  ensureUser(user: string) {
    return this.request("ensure_user", { user });
  }
  startRunner(user: string) {
    return this.request("start_runner", { user });
  }
  stopRunner(user: string) {
    return this.request("stop_runner", { user });
  }
  deleteUser(user: string, removeHome: boolean) {
    return this.request("delete_user", { user, remove_home: removeHome });
  }

  private request<O extends HelperOp>(
    op: O,
    params: Omit<Extract<HelperRequest, { op: O }>, "id" | "op">,
  ): Promise<HelperResults[O]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new HelperError("timeout", `the privileged helper did not answer ${op} in ${TIMEOUT_MS[op]} ms`),
        );
      }, TIMEOUT_MS[op]);
      this.pending.set(id, { op, resolve: resolve as (result: unknown) => void, reject, timer });
      if (!this.conn.sendJson({ id, op, ...params })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new HelperError("unavailable", "the privileged helper connection is closed"));
      }
    });
  }

  private onLine(line: string): void {
    let parsed: HelperResponse;
    try {
      parsed = HelperResponse.parse(JSON.parse(line));
    } catch {
      this.conn.close("the privileged helper sent an invalid answer");
      return;
    }
    const pending = parsed.id === null ? undefined : this.pending.get(parsed.id);
    if (!pending || parsed.id === null) return;
    this.pending.delete(parsed.id);
    clearTimeout(pending.timer);
    if (!parsed.ok) {
      pending.reject(new HelperError(parsed.code, parsed.error));
      return;
    }
    const result = HELPER_RESULT_SCHEMAS[pending.op].safeParse(parsed.result);
    if (result.success) pending.resolve(result.data);
    else pending.reject(new HelperError("invalid_answer", `the helper's ${pending.op} answer is malformed`));
  }

  private onClose(reason: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new HelperError("unavailable", `the privileged helper went away: ${reason}`));
    }
    this.pending.clear();
    this.onClosed(reason);
  }

  close(): void {
    this.conn.close("server stopping");
  }
}
