import type { Hono } from "hono";
import { EventResumeId, SessionEventsQuery } from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import type { CredentialRef } from "../auth/index.ts";
import { ApiError, parseQuery } from "../http-errors.ts";
import { MuxConnection, type MuxUser } from "../mux/mux-connection.ts";
import { type CommandCaller, type CommandOutcome, commandFailure } from "../routes/agent-command-call.ts";
import { keepRequestOpen } from "../routes/long-request.ts";
import { sessionIdParam } from "../routes/session-control.ts";
import { SseTransport } from "./sse-transport.ts";

/** Heartbeat comments: well inside the idle cut-offs of proxies (nginx's default is 60 s). */
export const SSE_HEARTBEAT_MS = 15_000;

/** The open event streams, so that a stopping serve can end them (Bun keeps a streaming response alive). */
export class EventStreams {
  private readonly open = new Set<SseTransport>();

  add(stream: SseTransport): void {
    this.open.add(stream);
  }

  delete(stream: SseTransport): void {
    this.open.delete(stream);
  }

  closeAll(): void {
    for (const stream of [...this.open]) stream.close();
  }
}

export interface SessionEventsDeps extends CommandCaller {
  streams: EventStreams;
  /** Whether the stream's credential still holds; checked at every heartbeat (as the WebSocket's pings do). */
  stillValid: (userId: string, credential: CredentialRef) => boolean;
}

/** The resume point: `Last-Event-ID` (what EventSource sends on reconnect) wins over `?after=`. */
function resumePoint(header: string | undefined, query: Record<string, string>): number | undefined {
  const { after } = parseQuery(SessionEventsQuery, query);
  if (header === undefined) return after;
  const parsed = EventResumeId.safeParse(header.trim());
  if (!parsed.success)
    throw new ApiError("BAD_REQUEST", `invalid Last-Event-ID: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * `GET /api/sessions/{id}/events`: the session's canonical events as Server-Sent Events. The stream
 * is a mux connection subscribed like a WebSocket's (same replay buffer, resync, bounded queue and
 * slow-consumer policy); it ends when the client goes away or the session's stream closes.
 */
export function registerSessionEventsRoute(app: Hono<AppEnv>, deps: SessionEventsDeps): void {
  app.get("/api/sessions/:id/events", async (c) => {
    const sessionId = sessionIdParam(c.req.param("id"));
    if ((c.req.queries("after")?.length ?? 0) > 1) throw new ApiError("BAD_REQUEST", "after is given twice");
    const after = resumePoint(c.req.header("last-event-id"), c.req.query());
    const { signal } = c.req.raw;
    // Nothing to subscribe for: its abort event has already fired.
    if (signal.aborted) throw new ApiError("BAD_REQUEST", "the client went away");
    keepRequestOpen(c);
    const { id, username, role } = c.var.user;
    const user: MuxUser = { id, username, role };
    const credential = c.var.credential;
    let outcome: CommandOutcome | undefined;
    let heartbeat: Timer | undefined;
    const transport = new SseTransport(
      { user, credential },
      {
        onResponse: (response) => {
          outcome ??= response;
        },
        onDrain: () =>
          conn.onDrain((sid, dropped, currentSeq) =>
            deps.agent.sendResync(conn, sid, "slow_consumer", dropped, currentSeq),
          ),
        onClose: () => {
          clearInterval(heartbeat);
          deps.streams.delete(transport);
          conn.closed = true;
          conn.discard();
          deps.hub.detachAll(conn);
        },
      },
    );
    const conn = new MuxConnection(transport, user);
    deps.streams.add(transport);
    transport.data.connection = conn;
    signal.addEventListener("abort", () => transport.close(), { once: true });

    // First on the wire, so that the client sees the stream open before any event.
    transport.comment("subscribed");
    await deps.agent.handle(conn, {
      cmd: "session.subscribe",
      session_id: sessionId,
      ...(after === undefined ? {} : { after_seq: after }),
    });
    if (!outcome?.success) {
      transport.close();
      throw outcome
        ? commandFailure(outcome)
        : new ApiError("INTERNAL_ERROR", "the subscription did not answer");
    }
    heartbeat = setInterval(() => {
      if (deps.stillValid(user.id, credential)) transport.comment("ping");
      else transport.close();
    }, SSE_HEARTBEAT_MS);
    return new Response(transport.stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
}
