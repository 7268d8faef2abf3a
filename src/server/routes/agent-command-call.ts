import {
  type Command,
  ErrorCode,
  MUX_EVENT_PREFIX,
  ProtocolError,
  type RestErrorCode,
} from "../../protocol/index.ts";
import type { CredentialRef } from "../auth/index.ts";
import { ApiError } from "../http-errors.ts";
import type { AgentChannel } from "../mux/agent-channel.ts";
import { MuxConnection, type MuxTransport, type MuxUser } from "../mux/mux-connection.ts";
import type { SessionHub } from "../mux/session-hub.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";

/**
 * The canonical response in an agent frame, or null for any other frame. It parses the frame: a
 * response's keys come in any order (the runner's are re-ordered by validation), so no prefix tells.
 */
export function responseIn(frame: string): CommandOutcome | null {
  if (!frame.startsWith(MUX_EVENT_PREFIX)) return null;
  const parsed = JSON.parse(frame) as CommandOutcome & { event?: unknown };
  return parsed.event === "response" ? parsed : null;
}

/** Command failures whose REST status differs from a runner error's (502 by default). */
const REST_CODE_FOR_COMMAND: Partial<Record<ErrorCode, RestErrorCode>> = {
  session_busy: "CONFLICT",
  session_not_running: "CONFLICT",
  busy: "SERVICE_UNAVAILABLE",
};

export interface CommandOutcome {
  success: boolean;
  data?: unknown;
  error?: string;
  error_code?: string;
}

/** A failed canonical response as the REST error it stands for (another user's session: 404). */
export function commandFailure(response: CommandOutcome): ApiError {
  const parsed = ErrorCode.safeParse(response.error_code);
  const code = parsed.success ? parsed.data : "internal";
  const message = response.error ?? "the command failed";
  const rest = REST_CODE_FOR_COMMAND[code];
  if (rest) return new ApiError(rest, message, { runner_code: code });
  return runnerErrorToApi(new ProtocolError(code, message));
}

export interface CommandCaller {
  agent: AgentChannel;
  hub: SessionHub;
}

/**
 * Runs one canonical command for a REST caller exactly as a WebSocket's command runs (validation,
 * ownership, admission, timeouts) through a connection of its own that only keeps the response.
 * Resolves with the response's data; a failed command throws its REST error.
 */
export async function runAgentCommand(
  { agent, hub }: CommandCaller,
  user: MuxUser,
  credential: CredentialRef,
  command: Command,
): Promise<unknown> {
  let response: CommandOutcome | undefined;
  const transport: MuxTransport = {
    data: { user, credential },
    send: (frame) => {
      response ??= responseIn(frame) ?? undefined;
      return 1;
    },
    getBufferedAmount: () => 0,
    close: () => {},
  };
  const conn = new MuxConnection(transport, user);
  try {
    await agent.handle(conn, { ...command });
  } finally {
    // session.create attached this connection to the stream: it leaves like a closed socket.
    conn.closed = true;
    hub.detachAll(conn);
  }
  if (!response) throw new ApiError("INTERNAL_ERROR", `no response to ${command.cmd}`);
  if (!response.success) throw commandFailure(response);
  return response.data;
}
