import type { SessionManager } from "../session-manager.ts";
import type { MethodTable } from "./types.ts";

export function agentMethods(
  sessions: SessionManager,
): MethodTable<"agent.command" | "agent.subscribe" | "agent.unsubscribe" | "models.write"> {
  return {
    "agent.command": ({ command }) => sessions.command(command),
    "agent.subscribe": ({ session_id, after_seq }) => sessions.subscribe(session_id, after_seq),
    "agent.unsubscribe": ({ session_id }) => {
      sessions.unsubscribe(session_id);
      return {};
    },
    "models.write": async ({ models_json, settings }) => {
      await sessions.writeModels(models_json, settings);
      return {};
    },
  };
}
