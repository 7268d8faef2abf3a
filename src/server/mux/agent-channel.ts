import { z } from "zod";
import {
  Command,
  type CommandName,
  describeZodError,
  type ErrorCode,
  EventPayloads,
  ProtocolError,
  peekEventLine,
  runnerLineToMuxFrame,
  SubscribeResult,
  SYSTEM_SESSION_ID,
} from "../../protocol/index.ts";
import type { AdmissionControl } from "../admission/admission-control.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { assertInWorkspaceRoot } from "../workspace-scope.ts";
import type { MuxConnection, MuxUser } from "./mux-connection.ts";
import type { SessionHub } from "./session-hub.ts";

/** Per-command timeouts (PROTOCOL.md §2.6); others use the configured default. */
const COMMAND_TIMEOUTS_MS: Partial<Record<CommandName, number>> = {
  get_state: 6_000,
  get_messages: 10_000,
  "session.create": 60_000,
  compact: 300_000,
  abort: 15_000,
};
const SYSTEM_COMMANDS: ReadonlySet<CommandName> = new Set(["list_sessions", "get_models"]);
/** Commands whose success moves the caller to another session id that must then be owned by the user. */
const REBINDING_COMMANDS: ReadonlySet<CommandName> = new Set(["session.new", "session.switch", "fork"]);

/** Which platform user owns which session (the platform DB's session index). */
export interface SessionOwnership {
  /** Records the session for the user; returns false if another user owns it. */
  claim(sessionId: string, userId: string, workspacePath: string): boolean;
  owner(sessionId: string): string | undefined;
}

export interface AgentChannelOptions {
  hub: SessionHub;
  runnerFor: (user: MuxUser) => RunnerClient;
  ownership: SessionOwnership;
  workspaceRootFor: (user: MuxUser) => string;
  defaultTimeoutMs: number;
  log: (message: string) => void;
  /** Admission of generating sessions (a limit and its queue); without it every turn starts at once. */
  admission?: AdmissionControl;
}

/** The canonical response object the runner returns for `agent.command`. */
const RunnerCommandResponse = EventPayloads.response.extend({ event: z.literal("response") }).loose();

/** The agent channel of the mux: validation, authorization, forwarding and subscriptions. */
export class AgentChannel {
  constructor(private readonly options: AgentChannelOptions) {}

  async handle(conn: MuxConnection, frame: Record<string, unknown>): Promise<void> {
    const { channel: _channel, ...body } = frame;
    const parsed = Command.safeParse(body);
    if (!parsed.success) {
      const cmd = typeof body.cmd === "string" ? body.cmd : "unknown";
      const sessionId = typeof body.session_id === "string" ? body.session_id : SYSTEM_SESSION_ID;
      const id = typeof body.id === "string" ? body.id : undefined;
      this.reply(conn, this.failure(sessionId, cmd, id, "invalid_request", describeZodError(parsed.error)));
      return;
    }
    const command = parsed.data;
    if (!conn.acquire("agent")) {
      this.reply(
        conn,
        this.failure(command.session_id, command.cmd, command.id, "busy", "too many commands in flight"),
      );
      return;
    }
    try {
      const response = await this.execute(conn, command);
      if (response) this.reply(conn, response);
    } catch (error) {
      const code: ErrorCode = error instanceof ProtocolError ? error.code : "internal";
      if (code === "internal")
        this.options.log(`agent command ${command.cmd} failed: ${(error as Error).stack}`);
      this.reply(
        conn,
        this.failure(command.session_id, command.cmd, command.id, code, (error as Error).message),
      );
    } finally {
      conn.release("agent");
    }
  }

  /** Re-subscribes the socket subscriptions of `userId` (every user's: undefined) after their runner (re)connected. */
  async resubscribeAll(restarted: boolean, userId?: string): Promise<void> {
    for (const sessionId of this.options.hub.sessionIds()) {
      for (const conn of this.options.hub.socketsOf(sessionId)) {
        if (userId !== undefined && conn.user.id !== userId) continue;
        // A subscribe still under way (it may be what connected the runner) completes on its own.
        if (conn.isReplaying(sessionId)) continue;
        const after = conn.subscriptions.get(sessionId)?.lastSeq ?? 0;
        try {
          await this.subscribe(conn, sessionId, restarted ? undefined : after, restarted, null);
        } catch (error) {
          this.options.log(`resubscribe ${sessionId} failed: ${(error as Error).message}`);
        }
      }
    }
  }

  /** Follows a re-bound stream: sockets of the old session move to the next one. */
  onSessionClosed(sessionId: string, line: string): void {
    let nextId: string | undefined;
    try {
      const parsed = JSON.parse(line) as { reason?: string; next_session_id?: string };
      if (parsed.reason === "replaced") nextId = parsed.next_session_id;
    } catch {
      return;
    }
    if (!nextId) return;
    const { hub, ownership } = this.options;
    for (const conn of [...hub.socketsOf(sessionId)]) {
      if (!ownership.claim(nextId, conn.user.id, "")) continue;
      conn.unsubscribe(sessionId);
      hub.detach(sessionId, conn);
      conn.subscribeLive(nextId);
      hub.attach(nextId, conn);
    }
  }

  /** Runs a command; resolves with its response, or null when the response was already sent. */
  private async execute(conn: MuxConnection, command: Command): Promise<Record<string, unknown> | null> {
    const { user } = conn;
    const sessionId = command.session_id;
    if (sessionId === SYSTEM_SESSION_ID) {
      if (!SYSTEM_COMMANDS.has(command.cmd)) {
        throw new ProtocolError(
          "invalid_request",
          `${command.cmd} needs a session id, not ${SYSTEM_SESSION_ID}`,
        );
      }
    } else if (command.cmd === "session.create") {
      this.authorizeCreate(user, command);
    } else if (this.options.ownership.owner(sessionId) !== user.id) {
      throw new ProtocolError("session_not_found", `no session ${sessionId}`);
    }

    if (command.cmd === "session.subscribe") {
      await this.subscribe(conn, sessionId, command.after_seq, false, { id: command.id });
      return null;
    }
    if (command.cmd === "session.unsubscribe") {
      conn.unsubscribe(sessionId);
      this.options.hub.detach(sessionId, conn);
      return this.success(sessionId, command.cmd, command.id);
    }
    // Session references inside commands must be the caller's own Oqto sessions (never pi ids).
    const referenced =
      command.cmd === "session.switch"
        ? command.target_session_id
        : command.cmd === "session.new"
          ? command.parent_session
          : undefined;
    if (referenced !== undefined && this.options.ownership.owner(referenced) !== user.id) {
      throw new ProtocolError("session_not_found", `no session ${referenced}`);
    }

    let startsTurn = false;
    const { admission } = this.options;
    if (admission && command.cmd !== "session.create") {
      let gate = admission.gate(user, command);
      while (gate.kind === "after") {
        await gate.ready;
        gate = admission.gate(user, command);
      }
      if (gate.kind === "answer") return this.success(sessionId, command.cmd, command.id, gate.data);
      startsTurn = gate.started;
    }
    if (admission && startsTurn) {
      const response = await this.forwardTurn(user, command).catch((error: unknown) => {
        admission.settle(sessionId, false);
        throw error;
      });
      admission.settle(sessionId, response.success === true);
      return response;
    }

    // session.create subscribes the caller: attach before the first event (session.created) can arrive.
    const attachedHere = command.cmd === "session.create" && !conn.isSubscribed(sessionId);
    if (attachedHere) {
      conn.subscribeLive(sessionId);
      this.options.hub.attach(sessionId, conn);
    }
    const response = await this.forward(user, command).catch((error: unknown) => {
      if (attachedHere) this.detach(conn, sessionId);
      throw error;
    });
    if (attachedHere && response.success !== true) this.detach(conn, sessionId);
    if (response.success === true) this.afterSuccess(user, command, response);
    return response;
  }

  private authorizeCreate(user: MuxUser, command: Extract<Command, { cmd: "session.create" }>): void {
    const cwd = assertInWorkspaceRoot(this.options.workspaceRootFor(user), command.config.cwd, true);
    const resumed = command.config.continue_session;
    if (resumed !== undefined && this.options.ownership.owner(resumed) !== user.id) {
      throw new ProtocolError("session_not_found", `no session ${resumed} to continue`);
    }
    // Another user's id is "not found", the answer for any id one may not use: existence does not leak.
    if (!this.options.ownership.claim(command.session_id, user.id, cwd)) {
      throw new ProtocolError("session_not_found", `session id ${command.session_id} cannot be used`);
    }
  }

  /**
   * Forwards a command that opens a turn. Serve must see the turn's `agent.idle` (admission counts the
   * turn until then), so a session no socket watches is subscribed at its runner first.
   */
  async forwardTurn(user: MuxUser, command: Command): Promise<Record<string, unknown>> {
    if (this.options.hub.holdRunnerSubscription(command.session_id)) {
      await this.options
        .runnerFor(user)
        .request("agent.subscribe", { session_id: command.session_id }, 10_000)
        .catch((error: Error) =>
          this.options.log(`subscribe ${command.session_id} failed: ${error.message}`),
        );
    }
    return this.forward(user, command);
  }

  private async forward(user: MuxUser, command: Command): Promise<Record<string, unknown>> {
    const timeout = COMMAND_TIMEOUTS_MS[command.cmd] ?? this.options.defaultTimeoutMs;
    const result = await this.options.runnerFor(user).request("agent.command", { command }, timeout);
    const response = RunnerCommandResponse.safeParse(result);
    if (!response.success) {
      throw new ProtocolError(
        "internal",
        `runner sent an invalid response: ${describeZodError(response.error)}`,
      );
    }
    return response.data as Record<string, unknown>;
  }

  private afterSuccess(user: MuxUser, command: Command, response: Record<string, unknown>): void {
    const data = response.data as Record<string, unknown> | undefined;
    if (command.cmd === "list_sessions" && data && Array.isArray(data.sessions)) {
      // One runner may serve several platform users (single-user mode): show only the caller's.
      data.sessions = data.sessions.filter(
        (s: { session_id?: unknown }) =>
          typeof s.session_id === "string" && this.options.ownership.owner(s.session_id) === user.id,
      );
    }
    if (REBINDING_COMMANDS.has(command.cmd) && data) {
      const next = typeof data.new_session_id === "string" ? data.new_session_id : data.session_id;
      if (typeof next === "string" && next !== command.session_id)
        this.options.ownership.claim(next, user.id, "");
    }
  }

  /**
   * Subscribes a socket: attach in buffering mode, fetch the replay from the runner, then send
   * the response, the replayed frames and the live frames held meanwhile, in seq order.
   * `epochChanged`: the runner restarted, so its seq numbering started over.
   */
  private async subscribe(
    conn: MuxConnection,
    sessionId: string,
    afterSeq: number | undefined,
    epochChanged: boolean,
    reply: { id?: string } | null,
  ): Promise<void> {
    const { hub } = this.options;
    conn.beginSubscription(sessionId);
    hub.attach(sessionId, conn);
    let result: SubscribeResult;
    try {
      const params =
        afterSeq === undefined ? { session_id: sessionId } : { session_id: sessionId, after_seq: afterSeq };
      result = SubscribeResult.parse(
        await this.options.runnerFor(conn.user).request("agent.subscribe", params, 10_000),
      );
    } catch (error) {
      this.detach(conn, sessionId);
      throw error;
    }
    const resync = result.resync_required || epochChanged;
    if (epochChanged || hub.seqOf(sessionId) < result.seq) hub.setSeq(sessionId, result.seq);
    hub.setEpoch(sessionId, result.epoch);
    if (reply) {
      this.reply(
        conn,
        this.success(sessionId, "session.subscribe", reply.id, {
          seq: result.seq,
          epoch: result.epoch,
          running: result.running,
          replayed: result.events.length,
          resync_required: resync,
        }),
      );
    }
    if (resync) {
      this.sendResync(
        conn,
        sessionId,
        epochChanged ? "epoch_changed" : "replay_window",
        result.dropped_count ?? 0,
        result.seq,
      );
    }
    const replay = result.events.map((line) => {
      const head = peekEventLine(line);
      return { seq: head?.seq ?? 0, event: head?.event ?? "", frame: runnerLineToMuxFrame(line) };
    });
    // What the client has already seen: its after_seq, or everything up to now on live-only or resync.
    conn.resetSeq(sessionId, afterSeq !== undefined && !resync ? afterSeq : result.seq);
    const overflow = conn.finishReplay(sessionId, replay);
    if (overflow > 0) this.sendResync(conn, sessionId, "slow_consumer", overflow, hub.seqOf(sessionId));
    // A session waiting for admission: its position now (queue frames are not part of the replay).
    const queued = this.options.admission?.frameFor(sessionId);
    if (queued) conn.send(queued);
  }

  /** Tells one socket that it missed events of a session and must refetch state (addressed, not replayed). */
  sendResync(
    conn: MuxConnection,
    sessionId: string,
    reason: "replay_window" | "slow_consumer" | "epoch_changed",
    droppedCount: number,
    currentSeq: number,
  ): void {
    conn.sendJson({
      channel: "agent",
      event: "stream.resync_required",
      session_id: sessionId,
      runner_id: "local",
      ts: Date.now(),
      seq: currentSeq,
      dropped_count: droppedCount,
      reason,
      current_seq: currentSeq,
      epoch: this.options.hub.epochOf(sessionId),
    });
  }

  private detach(conn: MuxConnection, sessionId: string): void {
    conn.unsubscribe(sessionId);
    this.options.hub.detach(sessionId, conn);
  }

  private reply(conn: MuxConnection, response: Record<string, unknown>): void {
    conn.sendJson({ channel: "agent", ...response });
  }

  private success(sessionId: string, cmd: string, id: string | undefined, data?: unknown) {
    return this.response(
      sessionId,
      cmd,
      id,
      data === undefined ? { success: true } : { success: true, data },
    );
  }

  private failure(sessionId: string, cmd: string, id: string | undefined, code: ErrorCode, error: string) {
    return this.response(sessionId, cmd, id, { success: false, error, error_code: code });
  }

  /** A server-made canonical response: it carries the last seq relayed for the session (0 for `_system`). */
  private response(
    sessionId: string,
    cmd: string,
    id: string | undefined,
    outcome: { success: true; data?: unknown } | { success: false; error: string; error_code: ErrorCode },
  ): Record<string, unknown> {
    return {
      event: "response",
      session_id: sessionId,
      runner_id: "local",
      ts: Date.now(),
      seq: sessionId === SYSTEM_SESSION_ID ? 0 : this.options.hub.seqOf(sessionId),
      ...(id === undefined ? {} : { id }),
      cmd,
      ...outcome,
    };
  }
}
