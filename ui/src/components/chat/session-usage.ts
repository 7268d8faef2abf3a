import type { Usage } from "../../../../src/protocol/index.ts";
import type { MessageModel } from "../../state/chat/message-model.ts";

/** What the conversation used so far, summed over its messages' usage. */
export interface SessionUsage {
  tokens: number;
  costUsd: number;
  /** Tokens of the context the last answer was made from (and its own output), or null before any answer. */
  contextTokens: number | null;
}

/** Every token of one reply, as pi counts a context: input, output and both kinds of cache. */
export function usageTokens(usage: Usage): number {
  return (
    usage.input_tokens +
    usage.output_tokens +
    (usage.cache_read_tokens ?? 0) +
    (usage.cache_write_tokens ?? 0)
  );
}

export function sessionUsage(messages: readonly MessageModel[]): SessionUsage {
  let tokens = 0;
  let costUsd = 0;
  let contextTokens: number | null = null;
  for (const message of messages) {
    const usage = message.meta.value?.usage;
    if (!usage) continue;
    const used = usageTokens(usage);
    tokens += used;
    costUsd += usage.cost_usd ?? 0;
    // A reply that failed before the provider answered reports no tokens: it says nothing of the context.
    if (message.role === "assistant" && used > 0) contextTokens = used;
  }
  return { tokens, costUsd, contextTokens };
}
