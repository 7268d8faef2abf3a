import { z } from "zod";

/**
 * One of pi's commands as `get_commands` lists it (PROTOCOL.md §1.2): a prompt template
 * (`/name args` is expanded by pi), a skill (`/skill:name`) or an extension command (run by pi).
 */
export const AgentCommandType = z.enum(["prompt", "skill", "extension"]);
export type AgentCommandType = z.infer<typeof AgentCommandType>;

export const AgentCommandInfo = z.object({
  name: z.string(),
  description: z.string().optional(),
  type: AgentCommandType,
});
export type AgentCommandInfo = z.infer<typeof AgentCommandInfo>;

export const AgentCommandList = z.array(AgentCommandInfo);
/** `GET /api/sessions/{id}/commands`. */
export const SessionCommandsResponse = z.object({ commands: AgentCommandList });
