import { z } from "zod";
import { CorrelationId, SessionId, ThinkingLevel } from "./common.ts";
import { PromptImages } from "./images.ts";

/** Fields every command carries beside its payload (PROTOCOL.md §1.1). Unknown fields are rejected. */
const base = {
  id: CorrelationId.optional(),
  session_id: SessionId,
  runner_id: z.string().max(128).optional(),
};

function command<C extends string, S extends z.ZodRawShape>(cmd: C, payload: S) {
  return z.strictObject({ ...base, cmd: z.literal(cmd), ...payload });
}

const NonBlank = z.string().refine((s) => s.trim().length > 0, "must not be blank");
const MessagePayload = {
  message: NonBlank,
  images: PromptImages.optional(),
  client_id: z.string().min(1).max(128).optional(),
};

export const SessionConfig = z.strictObject({
  harness: z.literal("pi"),
  cwd: z.string().min(1),
  provider: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  continue_session: z.string().min(1).optional(),
});
export type SessionConfig = z.infer<typeof SessionConfig>;

export const Command = z.discriminatedUnion("cmd", [
  command("session.create", { config: SessionConfig }),
  command("session.subscribe", { after_seq: z.number().int().nonnegative().optional() }),
  command("session.unsubscribe", {}),
  command("session.close", {}),
  command("session.delete", {}),
  command("session.new", { parent_session: z.string().optional() }),
  command("session.switch", { target_session_id: z.string().min(1) }),
  command("session.restart", {}),
  command("prompt", MessagePayload),
  command("steer", MessagePayload),
  command("follow_up", MessagePayload),
  command("abort", {}),
  command("abort_retry", {}),
  command("input_response", {
    request_id: z.string().min(1),
    value: z.string().optional(),
    confirmed: z.boolean().optional(),
    cancelled: z.boolean().optional(),
  }),
  command("get_state", {}),
  command("get_messages", {
    limit: z.number().int().positive().max(10_000).optional(),
    /** Only messages before this idx: a view pages back through a long conversation. */
    before_idx: z.number().int().nonnegative().optional(),
  }),
  command("get_stats", {}),
  command("get_models", { workdir: z.string().optional() }),
  command("get_commands", {}),
  command("get_fork_points", {}),
  command("list_sessions", {}),
  command("set_model", { provider: z.string().min(1), model_id: z.string().min(1) }),
  command("cycle_model", {}),
  command("set_thinking_level", { level: ThinkingLevel }),
  command("cycle_thinking_level", {}),
  command("set_auto_compaction", { enabled: z.boolean() }),
  command("set_auto_retry", { enabled: z.boolean() }),
  command("compact", { instructions: z.string().optional() }),
  command("set_session_name", { name: NonBlank }),
  command("fork", { entry_id: z.string().min(1) }),
  command("delegate", {}).loose(),
  command("delegate.cancel", {}).loose(),
]);
export type Command = z.infer<typeof Command>;
export type CommandName = Command["cmd"];
export type CommandOf<C extends CommandName> = Extract<Command, { cmd: C }>;

export const COMMAND_NAMES = Command.options.map((o) => o.shape.cmd.value) as CommandName[];

/** Commands that carry a user message and may be deduplicated by `client_id`. */
export const MESSAGE_COMMANDS = ["prompt", "steer", "follow_up"] as const;
