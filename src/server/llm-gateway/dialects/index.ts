import type { ProviderApi } from "../../../protocol/llm.ts";
import { anthropicMessages } from "./anthropic-messages.ts";
import type { ApiDialect } from "./dialect.ts";
import { googleGenerativeAi } from "./google-generative-ai.ts";
import { openAiCompletions } from "./openai-completions.ts";
import { openAiResponses } from "./openai-responses.ts";

export type { ApiDialect, DialectRequest, TokenUsage, UsageMeter } from "./dialect.ts";

const DIALECTS: Record<ProviderApi, ApiDialect> = {
  "openai-completions": openAiCompletions,
  "openai-responses": openAiResponses,
  "anthropic-messages": anthropicMessages,
  "google-generative-ai": googleGenerativeAi,
};

/** The wire dialect of one of pi's APIs. */
export function dialectFor(api: ProviderApi): ApiDialect {
  return DIALECTS[api];
}
