import type { ModelPrice } from "../../protocol/llm.ts";
import type { TokenUsage } from "./dialects/dialect.ts";

/** USD for `usage` at `price` (USD per million tokens); no price known means no cost counted. */
export function costUsd(usage: TokenUsage, price: ModelPrice | undefined): number {
  if (!price) return 0;
  return (
    (usage.input * price.input +
      usage.output * price.output +
      usage.cacheRead * price.cache_read +
      usage.cacheWrite * price.cache_write) /
    1_000_000
  );
}

export function totalTokens(usage: TokenUsage): number {
  return usage.input + usage.output + usage.cacheRead + usage.cacheWrite;
}
