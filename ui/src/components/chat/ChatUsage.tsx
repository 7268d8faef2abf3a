import type { Model } from "../../../../src/protocol/index.ts";
import type { ChatSession } from "../../state/chat/chat-session.ts";
import { formatCount, formatTokenCount, formatUsd } from "../common/format.ts";
import { sessionUsage } from "./session-usage.ts";

/**
 * The conversation's cost so far, in the chat header: how full the model's context window is (from the
 * last answer's usage) and the session's total tokens and cost (the sum over its messages).
 */
export function ChatUsage({ chat, model }: { chat: ChatSession; model: Model | undefined }) {
  const usage = sessionUsage(chat.messages.value);
  if (usage.tokens === 0 && usage.contextTokens === null) return null;
  const window = model?.contextWindow;
  const context = usage.contextTokens ?? 0;
  const share = window ? Math.min(1, context / window) : null;
  const percent = share === null ? null : Math.round(share * 100);
  const gaugeText = window
    ? `Context: ${formatCount(context)} of ${formatCount(window)} tokens (${percent}%)`
    : `Context: ${formatCount(context)} tokens`;
  return (
    <div
      class="chat-usage"
      data-testid="chat-usage"
      data-tokens={usage.tokens}
      data-cost={usage.costUsd}
      title={`${gaugeText}. This session: ${formatCount(usage.tokens)} tokens, ${formatUsd(usage.costUsd)}.`}
    >
      {window !== undefined && (
        <span class="context-gauge" data-testid="context-gauge" data-used={context} data-window={window}>
          <meter
            class="gauge"
            min={0}
            max={window}
            low={window * 0.6}
            high={window * 0.85}
            optimum={0}
            value={Math.min(context, window)}
            aria-label={gaugeText}
          />
          <span class="context-gauge-text">
            {formatTokenCount(context)} / {formatTokenCount(window)}
          </span>
        </span>
      )}
      <span class="chat-usage-totals" data-testid="chat-usage-totals">
        {formatTokenCount(usage.tokens)} tokens · {formatUsd(usage.costUsd)}
      </span>
    </div>
  );
}
