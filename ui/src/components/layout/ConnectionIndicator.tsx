import type { ConnectionState } from "../../lib/mux-client.ts";
import { mux } from "../../state/connection.ts";

const LABELS: Record<ConnectionState, string> = {
  offline: "Offline",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
};

export function ConnectionIndicator() {
  const state = mux.state.value;
  return (
    <output class="connection" data-state={state} data-testid="connection-state" aria-live="polite">
      <span class="connection-dot" aria-hidden="true" />
      <span class="connection-label">{LABELS[state]}</span>
    </output>
  );
}
