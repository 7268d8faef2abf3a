import { ClientError, EXIT, type ExitCode } from "./client-error.ts";
import { EventFollower } from "./event-follower.ts";
import type { OqtoApi } from "./oqto-api.ts";
import { TurnOutcome, type TurnResult, typeMessage } from "./turn-outcome.ts";
import { type TurnIo, TurnRenderer } from "./turn-renderer.ts";

/** After the abort's answer (sent once the turn is idle), how long the stream may take to bring the rest. */
const TAIL_AFTER_ABORT_MS = 2000;

export interface TurnRequest {
  prompt: string;
  /** Continue this session; otherwise a new one is made in `workspace`. */
  sessionId?: string;
  workspace?: string;
  model?: string;
  thinking?: string;
  json: boolean;
}

/**
 * One `oqto run`: the session (made or continued), its event stream subscribed before the prompt
 * goes out, the turn rendered until it ends. `interrupt()` (Ctrl-C) aborts the turn on the server.
 */
export class TurnRun {
  private follower: EventFollower | undefined;
  private sessionId: string | undefined;
  private interrupted = false;
  private prompting: Promise<void> | undefined;
  private aborting: Promise<void> | undefined;
  private readonly renderer: TurnRenderer;

  constructor(
    private readonly api: OqtoApi,
    private readonly request: TurnRequest,
    io: TurnIo,
  ) {
    this.renderer = new TurnRenderer(request.json, io);
  }

  async run(): Promise<ExitCode> {
    const sessionId = await this.session();
    const follower = this.follower as EventFollower;
    if (this.interrupted) {
      follower.close();
      return EXIT.interrupted;
    }
    this.sessionId = sessionId;
    this.prompting = this.api.prompt(sessionId, this.request.prompt).then(
      (accepted) => {
        if (accepted.queued)
          this.renderer.note(`[queue] waiting for a free slot: position ${accepted.queued.position}`);
      },
      (error: unknown) => {
        follower.close();
        throw error;
      },
    );
    const [prompted, followed] = await Promise.allSettled([this.prompting, this.follow(follower)]);
    this.renderer.finish();
    if (prompted.status === "rejected") throw prompted.reason;
    if (this.aborting) {
      await this.aborting;
      this.renderer.note("oqto run: the turn was aborted (Ctrl-C)");
      return EXIT.interrupted;
    }
    if (followed.status === "rejected") throw followed.reason;
    return this.exitFor(followed.value);
  }

  /**
   * Ctrl-C. Before the prompt went out there is nothing to abort: false, and the caller exits at
   * once. After, the turn is aborted on the server and `run()` resolves once it has ended: true.
   */
  interrupt(): boolean {
    if (this.interrupted) return this.aborting !== undefined;
    this.interrupted = true;
    const { prompting, sessionId, follower } = this;
    if (prompting === undefined || sessionId === undefined || follower === undefined) return false;
    this.renderer.note("oqto run: aborting the turn (Ctrl-C again to quit at once)");
    // After the prompt's answer, so that the abort cannot overtake the prompt it is meant for.
    this.aborting = prompting
      .catch(() => undefined)
      .then(() => this.api.abort(sessionId))
      .then(
        (answer) => {
          // A turn that never started (still queued, or already over) brings no agent.idle.
          if (!answer.was_running || answer.dequeued) follower.close();
          else setTimeout(() => follower.close(), TAIL_AFTER_ABORT_MS).unref();
        },
        (error: unknown) => {
          follower.close();
          throw error;
        },
      );
    // run() awaits it; this keeps an early failure from counting as unhandled meanwhile.
    this.aborting.catch(() => {});
    return true;
  }

  /** The session id, with the event stream subscribed. */
  private async session(): Promise<string> {
    const { api, request } = this;
    const onReconnect = (attempt: number, reason: string) =>
      this.renderer.note(`oqto run: the event stream dropped (${reason}); reconnecting (${attempt})`);
    if (request.sessionId !== undefined) {
      this.follower = await EventFollower.connect(api, request.sessionId, undefined, { onReconnect });
      return request.sessionId;
    }
    const workspace = request.workspace ?? (await this.onlyWorkspace());
    const created = await api.createSession({
      workspace,
      ...(request.model === undefined ? {} : { model: request.model }),
      ...(request.thinking === undefined ? {} : { thinking: request.thinking }),
    });
    this.renderer.note(`oqto run: session ${created.session_id} in ${created.workspace}`);
    // From the create's seq on: whatever the session does from here is this turn's.
    this.follower = await EventFollower.connect(api, created.session_id, created.seq, { onReconnect });
    return created.session_id;
  }

  /** Without -w: the user's one workspace, or an error naming them. */
  private async onlyWorkspace(): Promise<string> {
    const names = (await this.api.workspaces()).map((w) => w.name);
    if (names.length === 1 && names[0] !== undefined) return names[0];
    throw new ClientError(
      names.length === 0
        ? "you have no workspace yet: create one in the web UI, then name it with -w"
        : `name a workspace with -w (yours: ${names.join(", ")})`,
      EXIT.usage,
    );
  }

  private async follow(follower: EventFollower): Promise<TurnResult | undefined> {
    const outcome = new TurnOutcome();
    for await (const message of follower.messages()) {
      const typed = typeMessage(message);
      this.renderer.show(message, typed);
      const result = outcome.take(typed);
      if (result) {
        follower.close();
        return result;
      }
    }
    return undefined;
  }

  private exitFor(result: TurnResult | undefined): ExitCode {
    if (result === undefined) throw new ClientError("the event stream ended before the turn did");
    switch (result.status) {
      case "ok":
        if (result.cutOff) this.renderer.note("oqto run: the answer was cut off at the model's token limit");
        return EXIT.ok;
      case "failed":
        throw new ClientError(`the turn failed: ${result.error}`);
      case "aborted":
        throw new ClientError("the turn was aborted");
      case "closed":
        throw new ClientError(`the session closed before the turn ended (${result.reason})`);
    }
  }
}
