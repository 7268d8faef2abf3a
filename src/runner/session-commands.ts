/**
 * Commands that concern one session (PROTOCOL.md §1.2): guards, the pi round trip, and the mapping
 * of pi's answer to the canonical `data`. Commands that create, end or re-bind sessions live in
 * the SessionManager.
 */
import type { z } from "zod";
import type { Command, CommandOf } from "../protocol/commands.ts";
import { ProtocolError, type SessionState } from "../protocol/common.ts";
import { type Message, Model } from "../protocol/message.ts";
import { type AgentCommandInfo, AgentCommandType } from "../protocol/slash-commands.ts";
import { mapPiConversation } from "./harness/pi/message-mapper.ts";
import {
  type PiAgentMessage,
  PiCommandsData,
  PiCompactData,
  PiCycleModelData,
  PiCycleThinkingData,
  PiForkMessagesData,
  PiMessagesData,
  PiModelsData,
  PiObjectData,
} from "./harness/pi/pi-schemas.ts";
import { withinImageBudget } from "./image-budget.ts";
import { readModels } from "./models-files.ts";
import type { Session } from "./session.ts";
import { readPiSessionMessages } from "./session-files.ts";

export const GET_STATE_TIMEOUT_MS = 6_000;
export const COMPACT_TIMEOUT_MS = 300_000;

const RUNNING: readonly SessionState[] = [
  "starting",
  "idle",
  "streaming",
  "compacting",
  "aborting",
  "stopping",
];
const IDLE: readonly SessionState[] = ["idle"];
const CONFIGURABLE: readonly SessionState[] = ["starting", "idle"];

/** Refuses a command the session's state does not allow (§1.6). */
export function guard(session: Session, allowed: readonly SessionState[], cmd: string): void {
  if (allowed.includes(session.state)) return;
  if (session.state === "closed")
    throw new ProtocolError("session_not_running", `${cmd}: session is not running`);
  throw new ProtocolError("session_busy", `${cmd}: not possible while the session is ${session.state}`);
}

/** Validates the `data` of a pi response; a mismatch is pi's fault (`harness_error`). */
export function piData<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new ProtocolError("harness_error", `unexpected ${what} answer from pi: ${parsed.error.message}`);
  return parsed.data;
}

export interface SessionCommandContext {
  agentDir: string;
}

/** Runs a per-session command and returns the canonical success `data`; failures throw ProtocolError. */
export async function runSessionCommand(
  session: Session,
  command: Command,
  ctx: SessionCommandContext,
): Promise<unknown> {
  switch (command.cmd) {
    case "prompt":
    case "steer":
    case "follow_up":
      await session.sendMessage(command.cmd, command.message, command.images, command.client_id);
      return undefined;
    case "abort":
      guard(session, RUNNING, command.cmd);
      return session.abort();
    case "abort_retry":
      guard(session, RUNNING, command.cmd);
      await session.requestData({ type: "abort_retry" });
      return undefined;
    case "input_response":
      return inputResponse(session, command);
    case "get_state":
      return getState(session);
    case "get_messages":
      return getMessages(session, command.limit, command.before_idx);
    case "get_stats":
      guard(session, RUNNING, command.cmd);
      return piData(
        PiObjectData,
        await session.requestData({ type: "get_session_stats" }),
        "get_session_stats",
      );
    case "get_models":
      return getModels(session, ctx);
    case "get_commands":
      return getCommands(session);
    case "get_fork_points":
      return getForkPoints(session);
    case "set_model":
      return setModel(session, command);
    case "cycle_model":
      return cycleModel(session);
    case "set_thinking_level":
      guard(session, CONFIGURABLE, command.cmd);
      // pi itself reports an actual change as thinking_level_changed → config.thinking_level_changed.
      await session.requestData({ type: "set_thinking_level", level: command.level });
      return { level: command.level };
    case "cycle_thinking_level":
      return cycleThinkingLevel(session);
    case "set_auto_compaction":
      guard(session, RUNNING, command.cmd);
      await session.requestData({ type: "set_auto_compaction", enabled: command.enabled });
      return undefined;
    case "set_auto_retry":
      guard(session, RUNNING, command.cmd);
      await session.requestData({ type: "set_auto_retry", enabled: command.enabled });
      session.setAutoRetry(command.enabled);
      return undefined;
    case "compact":
      return compact(session, command.instructions);
    case "set_session_name":
      guard(session, RUNNING, command.cmd);
      // pi answers with session_info_changed, which becomes session.title_changed.
      await session.requestData({ type: "set_session_name", name: command.name.trim() });
      return undefined;
    case "session.restart":
      guard(session, CONFIGURABLE, command.cmd);
      await session.restart();
      return { session_id: session.id };
    default:
      throw new ProtocolError("invalid_request", `${command.cmd} is not a session command`);
  }
}

function inputResponse(session: Session, command: CommandOf<"input_response">): undefined {
  guard(session, RUNNING, command.cmd);
  const answer = {
    ...(command.value === undefined ? {} : { value: command.value }),
    ...(command.confirmed === undefined ? {} : { confirmed: command.confirmed }),
    ...(command.cancelled === undefined ? {} : { cancelled: command.cancelled }),
  };
  if (!session.resolveInput(command.request_id, answer)) {
    throw new ProtocolError("not_found", `no pending input request ${command.request_id}`);
  }
  return undefined;
}

async function getState(session: Session): Promise<Record<string, unknown>> {
  const own = {
    session_state: session.state,
    ...(session.phase ? { phase: session.phase } : {}),
    seq: session.seq,
    epoch: session.epoch,
    pending_inputs: session.pendingInputs,
  };
  if (!session.isRunning) return own;
  const state = piData(
    PiObjectData,
    await session.requestData({ type: "get_state" }, GET_STATE_TIMEOUT_MS),
    "get_state",
  );
  // The Oqto fields are read after the round trip so they describe the same moment.
  return {
    ...state,
    session_state: session.state,
    ...(session.phase ? { phase: session.phase } : {}),
    seq: session.seq,
    epoch: session.epoch,
    pending_inputs: session.pendingInputs,
  };
}

/**
 * The conversation: from history (with the rows not written yet) when it can answer, else from the
 * running pi, else from its session file. After a compaction pi's list starts with a summary and
 * lacks older messages, so the session file is read to keep `idx` stable.
 */
/** The last `limit` messages (all without it), of those before `beforeIdx` when it is given. */
export async function getMessages(
  session: Session,
  limit: number | undefined,
  beforeIdx?: number,
): Promise<{ messages: Message[]; version: number; message_count: number }> {
  const page = (messages: Message[]): Message[] => {
    const before = beforeIdx === undefined ? messages : messages.filter((m) => m.idx < beforeIdx);
    return withinImageBudget(limit === undefined ? before : before.slice(-limit));
  };
  // A page before an idx is cut from the whole conversation: history's limit counts from the end.
  const stored = await session.historyMessages(beforeIdx === undefined ? limit : undefined);
  if (stored) return { ...stored, messages: page(stored.messages) };
  let piMessages: PiAgentMessage[] | undefined;
  if (session.isRunning) {
    piMessages = piData(
      PiMessagesData,
      await session.requestData({ type: "get_messages" }),
      "get_messages",
    ).messages;
    const compacted = piMessages.some((m) => m.role === "compactionSummary");
    if (compacted && session.piSessionFile) {
      piMessages = (await readPiSessionMessages(session.piSessionFile)) ?? piMessages;
    }
  } else if (session.piSessionFile) {
    piMessages = await readPiSessionMessages(session.piSessionFile);
  }
  const messages = mapPiConversation(session.id, piMessages ?? [], (idx) => session.clientIdAt(idx));
  // Without a history service the message count is the conversation's version.
  const count = messages.length;
  return {
    messages: page(messages),
    version: count,
    message_count: count,
  };
}

async function getModels(session: Session, ctx: SessionCommandContext): Promise<Model[]> {
  if (!session.isRunning || session.state === "starting") return readModels(ctx.agentDir);
  const data = piData(
    PiModelsData,
    await session.requestData({ type: "get_available_models" }),
    "get_available_models",
  );
  return data.models.map((model) => piData(Model, model, "model"));
}

async function getCommands(session: Session): Promise<AgentCommandInfo[]> {
  if (!session.isRunning) return [];
  const data = piData(PiCommandsData, await session.requestData({ type: "get_commands" }), "get_commands");
  const commands: AgentCommandInfo[] = [];
  for (const c of data.commands) {
    // A kind of command a later pi adds is left out rather than shown with a made-up label.
    const type = AgentCommandType.safeParse(c.source);
    if (!type.success) continue;
    commands.push({
      name: c.name,
      ...(c.description === undefined || c.description === "" ? {} : { description: c.description }),
      type: type.data,
    });
  }
  return commands;
}

async function getForkPoints(
  session: Session,
): Promise<Array<{ entry_id: string; role: "user"; preview: string }>> {
  guard(session, RUNNING, "get_fork_points");
  const data = piData(
    PiForkMessagesData,
    await session.requestData({ type: "get_fork_messages" }),
    "get_fork_messages",
  );
  return data.messages.map((m) => ({ entry_id: m.entryId, role: "user", preview: m.text }));
}

async function setModel(session: Session, command: CommandOf<"set_model">) {
  guard(session, CONFIGURABLE, command.cmd);
  await session.requestData({ type: "set_model", provider: command.provider, modelId: command.model_id });
  session.provider = command.provider;
  session.model = command.model_id;
  session.saveIndex();
  session.emit("config.model_changed", { provider: command.provider, model_id: command.model_id });
  return { provider: command.provider, model_id: command.model_id };
}

async function cycleModel(session: Session) {
  guard(session, CONFIGURABLE, "cycle_model");
  const data = piData(PiCycleModelData, await session.requestData({ type: "cycle_model" }), "cycle_model");
  if (!data) return { changed: false };
  session.provider = data.model.provider;
  session.model = data.model.id;
  session.saveIndex();
  session.emit("config.model_changed", { provider: data.model.provider, model_id: data.model.id });
  return {
    changed: true,
    provider: data.model.provider,
    model_id: data.model.id,
    ...(data.thinkingLevel === undefined ? {} : { thinking_level: data.thinkingLevel }),
  };
}

async function cycleThinkingLevel(session: Session): Promise<{ level: string | null }> {
  guard(session, CONFIGURABLE, "cycle_thinking_level");
  const data = piData(
    PiCycleThinkingData,
    await session.requestData({ type: "cycle_thinking_level" }),
    "cycle_thinking_level",
  );
  // The change itself is broadcast from pi's thinking_level_changed event.
  return { level: data?.level ?? null };
}

async function compact(session: Session, instructions: string | undefined) {
  guard(session, IDLE, "compact");
  const data = piData(PiCompactData, await session.compact(instructions, COMPACT_TIMEOUT_MS), "compact");
  return {
    summary: data.summary,
    first_kept_entry_id: data.firstKeptEntryId,
    tokens_before: data.tokensBefore,
  };
}
