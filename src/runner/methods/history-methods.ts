import type { RunnerHistory } from "../history/runner-history.ts";
import { withinImageBudget } from "../image-budget.ts";
import type { MethodTable } from "./types.ts";

type HistoryMethod =
  | "history.list"
  | "history.get"
  | "history.messages"
  | "history.search"
  | "history.rename"
  | "history.delete";

export function historyMethods(history: RunnerHistory): MethodTable<HistoryMethod> {
  return {
    "history.list": (params) => history.list(params),
    "history.get": async ({ session_id }) => ({ session: await history.get(session_id) }),
    "history.messages": async ({ session_id, limit }) => {
      const result = await history.messages(session_id, limit);
      return { ...result, messages: withinImageBudget(result.messages) };
    },
    "history.search": (params) => history.search(params),
    "history.rename": async ({ session_id, title }) => {
      await history.rename(session_id, title);
      return {};
    },
    "history.delete": async ({ session_id }) => {
      await history.delete(session_id);
      return {};
    },
  };
}
