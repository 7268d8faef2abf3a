import type { ChatSession } from "../../state/chat/chat-session.ts";
import { CloseIcon } from "../common/icons.tsx";

/** Agent errors, notifications and retries, until dismissed. */
export function AlertStack({ chat }: { chat: ChatSession }) {
  const alerts = chat.alerts.value;
  if (alerts.length === 0) return null;
  return (
    <div class="alerts">
      {alerts.map((alert) => (
        <div
          key={alert.id}
          class="alert"
          data-level={alert.level}
          role={alert.level === "error" ? "alert" : "status"}
          data-testid="chat-alert"
        >
          <span class="alert-text">{alert.text}</span>
          <button
            type="button"
            class="icon-button small"
            aria-label="Dismiss"
            onClick={() => chat.dismissAlert(alert.id)}
          >
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
