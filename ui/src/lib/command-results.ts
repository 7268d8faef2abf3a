import { z } from "zod";
import {
  AgentPhase,
  InputRequest,
  Message,
  Model,
  SessionState,
  ThinkingLevel,
} from "../../../src/protocol/index.ts";

/**
 * Schemas of the `data` of the command replies the UI reads (PROTOCOL.md §1.2). They list only the
 * fields the UI uses; harness state carries many more (pi `get_state`, camelCase).
 */
export const SessionCreateResult = z.object({
  session_id: z.string(),
  workspace_path: z.string(),
  already_running: z.boolean(),
  seq: z.number(),
  epoch: z.string(),
});

export const SubscribeResult = z.object({
  seq: z.number(),
  epoch: z.string(),
  running: z.boolean(),
  resync_required: z.boolean(),
});

export const ModelRef = z.object({ provider: z.string(), id: z.string(), name: z.string().optional() });
export type ModelRef = z.infer<typeof ModelRef>;

export const StateResult = z.object({
  session_state: SessionState,
  phase: AgentPhase.optional(),
  seq: z.number(),
  epoch: z.string(),
  pending_inputs: z.array(InputRequest).optional(),
  model: ModelRef.nullish(),
  sessionName: z.string().optional(),
  /** pi's reasoning effort; a value this UI does not know is read as unknown. */
  thinkingLevel: ThinkingLevel.optional().catch(undefined),
});
export type StateResult = z.infer<typeof StateResult>;

export const MessagesResult = z.object({
  messages: z.array(Message),
  version: z.number(),
  message_count: z.number(),
});

export const ModelsResult = z.array(Model);

export const ForkPointsResult = z.array(
  z.object({ entry_id: z.string(), role: z.literal("user"), preview: z.string() }),
);

export const ForkResult = z.object({ text: z.string(), cancelled: z.boolean(), new_session_id: z.string() });
export type ForkResult = z.infer<typeof ForkResult>;

export const NoData = z.unknown();
