import {
  ProtocolError,
  type RunnerPush,
  TerminalMuxRequest,
  TerminalOpenResult,
} from "../../protocol/index.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { assertInWorkspaceRoot } from "../workspace-scope.ts";
import { type MuxConnection, type MuxUser, SLOW_CONSUMER_BYTES } from "./mux-connection.ts";

const TERMINAL_TIMEOUT_MS = 15_000;

export interface TerminalChannelOptions {
  runnerFor: (user: MuxUser) => RunnerClient;
  workspaceRootFor: (user: MuxUser) => string;
  log: (message: string) => void;
}

/**
 * The mux `terminal` channel (PROTOCOL.md §2.3). Terminals belong to the user who opened them;
 * output goes to the one socket attached to each. When that socket goes away the runner keeps
 * the terminal for its grace period, so a reload re-attaches with the scrollback.
 */
export class TerminalChannel {
  /** terminal id -> owning user id (kept while detached, for re-attach). */
  private readonly owners = new Map<string, string>();
  /** terminal id -> the socket currently attached. */
  private readonly attached = new Map<string, MuxConnection>();

  constructor(private readonly options: TerminalChannelOptions) {}

  async handle(conn: MuxConnection, raw: Record<string, unknown>): Promise<void> {
    const accepted = conn.accept("terminal", TerminalMuxRequest, raw, "misc");
    if (!accepted) return;
    const { frame, id } = accepted;
    const runner = this.options.runnerFor(conn.user);
    try {
      if (frame.type === "open") {
        const { channel: _c, id: _i, type: _t, ...params } = frame;
        assertInWorkspaceRoot(this.options.workspaceRootFor(conn.user), params.workspace_path);
        if (params.terminal_id !== undefined) this.checkOwner(conn.user, params.terminal_id, true);
        const opened = TerminalOpenResult.parse(
          await runner.request("terminal.open", params, TERMINAL_TIMEOUT_MS),
        );
        this.owners.set(opened.terminal_id, conn.user.id);
        const previous = this.attached.get(opened.terminal_id);
        if (previous && previous !== conn) {
          previous.sendJson({
            channel: "terminal",
            type: "error",
            terminal_id: opened.terminal_id,
            error: "attached elsewhere",
            code: "busy",
          });
        }
        this.attached.set(opened.terminal_id, conn);
        conn.sendJson({
          channel: "terminal",
          ...(id === undefined ? {} : { id }),
          type: "opened",
          terminal_id: opened.terminal_id,
        });
        if (opened.scrollback_base64) {
          conn.sendJson({
            channel: "terminal",
            type: "output",
            terminal_id: opened.terminal_id,
            data_base64: opened.scrollback_base64,
          });
        }
        return;
      }
      this.checkOwner(conn.user, frame.terminal_id, false);
      if (frame.type === "input") {
        await runner.request(
          "terminal.input",
          { terminal_id: frame.terminal_id, data: frame.data },
          TERMINAL_TIMEOUT_MS,
        );
      } else if (frame.type === "resize") {
        const { terminal_id, cols, rows } = frame;
        await runner.request("terminal.resize", { terminal_id, cols, rows }, TERMINAL_TIMEOUT_MS);
      } else {
        await runner.request("terminal.close", { terminal_id: frame.terminal_id }, TERMINAL_TIMEOUT_MS);
      }
    } catch (error) {
      const known = error instanceof ProtocolError;
      if (!known) this.options.log(`terminal ${frame.type} failed: ${(error as Error).stack}`);
      const terminalId = "terminal_id" in frame ? frame.terminal_id : undefined;
      conn.sendJson({
        channel: "terminal",
        ...(id === undefined ? {} : { id }),
        type: "error",
        ...(terminalId === undefined ? {} : { terminal_id: terminalId }),
        error: (error as Error).message,
        code: known ? error.code : "internal",
      });
    } finally {
      conn.release("misc");
    }
  }

  /** Routes runner terminal pushes to the attached socket. */
  onPush(push: RunnerPush): void {
    if (push.type === "terminal_output") {
      const conn = this.attached.get(push.terminal_id);
      if (!conn || conn.closed) return;
      if (conn.backlogBytes() > SLOW_CONSUMER_BYTES) {
        // A tab that cannot keep up loses its attachment, not the terminal: a re-open replays the scrollback.
        this.detach(conn, push.terminal_id);
        conn.sendJson({
          channel: "terminal",
          type: "error",
          terminal_id: push.terminal_id,
          error: "output fell behind",
          code: "slow_consumer",
        });
        return;
      }
      conn.sendJson({
        channel: "terminal",
        type: "output",
        terminal_id: push.terminal_id,
        data_base64: push.data_base64,
      });
    } else if (push.type === "terminal_exit") {
      const conn = this.attached.get(push.terminal_id);
      this.attached.delete(push.terminal_id);
      this.owners.delete(push.terminal_id);
      const { type: _t, ...exit } = push;
      conn?.sendJson({ channel: "terminal", type: "exit", ...exit });
    }
  }

  /** A socket closed: its terminals stay alive detached for the runner's grace period. */
  release(conn: MuxConnection): void {
    for (const [terminalId, attachedConn] of this.attached) {
      if (attachedConn === conn) this.detach(conn, terminalId);
    }
  }

  /** After a runner restart its terminals are gone: those of `userId`, or everyone's (one shared runner). */
  forgetAll(userId?: string): void {
    for (const [terminalId, conn] of this.attached) {
      if (userId !== undefined && conn.user.id !== userId) continue;
      conn.sendJson({ channel: "terminal", type: "exit", terminal_id: terminalId, signal: "SIGKILL" });
      this.attached.delete(terminalId);
    }
    for (const [terminalId, owner] of this.owners) {
      if (userId === undefined || owner === userId) this.owners.delete(terminalId);
    }
  }

  private detach(conn: MuxConnection, terminalId: string): void {
    this.attached.delete(terminalId);
    this.options
      .runnerFor(conn.user)
      .request("terminal.detach", { terminal_id: terminalId }, TERMINAL_TIMEOUT_MS)
      .catch(() => {});
  }

  /** Another user's terminal and a missing one read the same: not found. `opening` allows a new id. */
  private checkOwner(user: MuxUser, terminalId: string, opening: boolean): void {
    const owner = this.owners.get(terminalId);
    if (owner === user.id || (opening && owner === undefined)) return;
    throw new ProtocolError("not_found", `no terminal ${terminalId}`);
  }
}
