import type { ProviderApi } from "../../../protocol/llm.ts";
import { anthropicMessagesDeltas } from "./anthropic-messages-deltas.ts";
import type { DeltaRule } from "./delta-rule.ts";
import { openAiCompletionsDeltas } from "./openai-completions-deltas.ts";

/** The APIs whose deltas the gateway can merge: Responses and Google stream differently and pass as they come. */
const RULES: Partial<Record<ProviderApi, DeltaRule>> = {
  "openai-completions": openAiCompletionsDeltas,
  "anthropic-messages": anthropicMessagesDeltas,
};

export function deltaRuleFor(api: ProviderApi): DeltaRule | undefined {
  return RULES[api];
}
