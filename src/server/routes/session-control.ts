import { join } from "node:path";
import type { Context, Hono } from "hono";
import {
  AbortAccepted,
  type Command,
  CommandAccepted,
  CreatedSession,
  CreateSessionRequest,
  InputAnswerRequest,
  MAX_JSON_BODY_BYTES_WITH_IMAGES,
  SendMessageRequest,
  SessionCommandsResponse,
  SessionId,
} from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import { ApiError, MAX_JSON_BODY_BYTES, parseJsonBody } from "../http-errors.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import { type CommandCaller, runAgentCommand } from "./agent-command-call.ts";
import { keepRequestOpen } from "./long-request.ts";

export interface SessionControlDeps extends CommandCaller {
  workspaceRootFor: (user: MuxUser) => string;
}

export function sessionIdParam(raw: string): string {
  const parsed = SessionId.safeParse(raw);
  if (!parsed.success) throw new ApiError("BAD_REQUEST", "invalid session id");
  return parsed.data;
}

/** `provider/model_id`, or a bare model id that the default provider serves. */
function modelConfig(model: string | undefined): { provider?: string; model?: string } {
  if (model === undefined) return {};
  const slash = model.indexOf("/");
  if (slash <= 0 || slash === model.length - 1) return { model };
  return { provider: model.slice(0, slash), model: model.slice(slash + 1) };
}

function commandId(): string {
  return `rest-${crypto.randomUUID()}`;
}

/**
 * Sessions driven over REST (PROTOCOL.md §4.2): create one, send it a prompt, steer or follow-up,
 * abort its turn, answer its input requests. Every command runs through the agent channel as a
 * WebSocket's would; another user's session is 404 like one that does not exist.
 */
export function registerSessionControlRoutes(app: Hono<AppEnv>, deps: SessionControlDeps): void {
  const run = (c: Context<AppEnv>, command: Command) => {
    keepRequestOpen(c);
    const { id, username, role } = c.var.user;
    return runAgentCommand(deps, { id, username, role }, c.var.credential, command);
  };

  app.post("/api/sessions", async (c) => {
    const body = await parseJsonBody(c.req.raw, CreateSessionRequest);
    const cwd = join(deps.workspaceRootFor(c.var.user), body.workspace);
    const sessionId = `oqto-${Bun.randomUUIDv7()}`;
    const data = (await run(c, {
      id: commandId(),
      session_id: sessionId,
      cmd: "session.create",
      config: { harness: "pi", cwd, ...modelConfig(body.model) },
    })) as Record<string, unknown>;
    if (body.thinking !== undefined) {
      await run(c, {
        id: commandId(),
        session_id: sessionId,
        cmd: "set_thinking_level",
        level: body.thinking,
      });
    }
    const session = CreatedSession.parse({
      session_id: sessionId,
      workspace: body.workspace,
      workspace_path: data.workspace_path ?? cwd,
      ...(typeof data.pi_session_id === "string" && { pi_session_id: data.pi_session_id }),
      seq: data.seq,
      epoch: data.epoch,
    });
    return c.json(session, 201);
  });

  app.post("/api/sessions/:id/prompt", async (c) => {
    const sessionId = sessionIdParam(c.req.param("id"));
    const body = await parseJsonBody(c.req.raw, SendMessageRequest, MAX_JSON_BODY_BYTES_WITH_IMAGES);
    // The larger body is for images; the text keeps the limit of every other JSON body.
    if (Buffer.byteLength(body.message) > MAX_JSON_BODY_BYTES) {
      throw new ApiError("PAYLOAD_TOO_LARGE", `message exceeds ${MAX_JSON_BODY_BYTES} bytes`);
    }
    const id = commandId();
    const data = (await run(c, {
      id,
      session_id: sessionId,
      cmd: body.mode,
      message: body.message,
      ...(body.images !== undefined && { images: body.images }),
      ...(body.client_id !== undefined && { client_id: body.client_id }),
    })) as { queued?: unknown } | undefined;
    return c.json(
      CommandAccepted.parse({
        command_id: id,
        ...(data?.queued === undefined ? {} : { queued: data.queued }),
      }),
      202,
    );
  });

  app.get("/api/sessions/:id/commands", async (c) => {
    const sessionId = sessionIdParam(c.req.param("id"));
    const commands = await run(c, { id: commandId(), session_id: sessionId, cmd: "get_commands" });
    return c.json(SessionCommandsResponse.parse({ commands }));
  });

  app.post("/api/sessions/:id/abort", async (c) => {
    const sessionId = sessionIdParam(c.req.param("id"));
    const id = commandId();
    const data = (await run(c, { id, session_id: sessionId, cmd: "abort" })) as Record<string, unknown>;
    return c.json(AbortAccepted.parse({ command_id: id, ...data }), 202);
  });

  app.post("/api/sessions/:id/input", async (c) => {
    const sessionId = sessionIdParam(c.req.param("id"));
    const body = await parseJsonBody(c.req.raw, InputAnswerRequest);
    const id = commandId();
    await run(c, { id, session_id: sessionId, cmd: "input_response", ...body });
    return c.json(CommandAccepted.parse({ command_id: id }), 202);
  });
}
