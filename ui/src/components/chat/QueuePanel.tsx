import type { ChatSession } from "../../state/chat/chat-session.ts";

/** Messages waiting for the agent, as pi reports them in `queue.updated`. */
export function QueuePanel({ chat }: { chat: ChatSession }) {
  const { steering, followUp } = chat.queue.value;
  if (steering.length === 0 && followUp.length === 0) return null;
  return (
    <section class="queue" aria-label="Queued messages" data-testid="queue">
      <ul>
        {steering.map((text, index) => (
          <li key={`s${index}`} class="queue-item" data-testid="queue-item" data-kind="steer">
            <span class="badge accent">Steer</span>
            <span class="queue-text">{text}</span>
          </li>
        ))}
        {followUp.map((text, index) => (
          <li key={`f${index}`} class="queue-item" data-testid="queue-item" data-kind="follow_up">
            <span class="badge">Follow-up</span>
            <span class="queue-text">{text}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
