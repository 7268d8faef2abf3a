import { ThinkingLevel } from "../../../../src/protocol/index.ts";
import type { ChatSession } from "../../state/chat/chat-session.ts";

const LABELS: Record<ThinkingLevel, string> = {
  off: "Thinking off",
  minimal: "Minimal thinking",
  low: "Low thinking",
  medium: "Medium thinking",
  high: "High thinking",
  xhigh: "Extra high thinking",
};

/** How hard a reasoning model thinks in the next turn; shown only for a model that reasons. */
export function ThinkingLevelPicker({ chat, reasoning }: { chat: ChatSession; reasoning: boolean }) {
  const level = chat.thinkingLevel.value;
  if (!reasoning || level === null) return null;
  return (
    <select
      class="thinking-picker"
      aria-label="Thinking level"
      title="How much the model reasons before it answers"
      value={level}
      disabled={chat.busy.value}
      onChange={(event) => {
        const chosen = ThinkingLevel.safeParse(event.currentTarget.value);
        if (chosen.success) void chat.setThinkingLevel(chosen.data);
      }}
      data-testid="thinking-level"
    >
      {ThinkingLevel.options.map((option) => (
        <option key={option} value={option}>
          {LABELS[option]}
        </option>
      ))}
    </select>
  );
}
