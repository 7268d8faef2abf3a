import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef } from "preact/hooks";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { mux } from "../../state/connection.ts";
import type { TerminalSession } from "../../state/terminal/terminal-session.ts";
import { terminalsFor, type WorkspaceTerminals } from "../../state/terminal/workspace-terminals.ts";
import { CloseIcon, PlusIcon } from "../common/icons.tsx";

const TERMINAL_KEYS_HINT_ID = "terminal-keys-hint";

/** Terminal tabs of the workspace; the first one opens by itself. */
export function TerminalPanel({ workspace }: { workspace: Workspace }) {
  const terminals = terminalsFor(mux, workspace);
  useEffect(() => terminals.ensureOne(), [terminals]);
  const sessions = terminals.sessions.value;
  const active = terminals.active.value;
  return (
    <div class="terminal-panel" data-testid="terminal-panel">
      <div class="terminal-tabs">
        {/* A list of switch buttons, not ARIA tabs: each has a close button beside it, which a tablist may not hold. */}
        <ul class="terminal-list" aria-label="Terminals">
          {sessions.map((session) => (
            <TerminalTab
              key={session.terminalId}
              terminals={terminals}
              session={session}
              active={session === active}
            />
          ))}
        </ul>
        <button
          type="button"
          class="icon-button small"
          aria-label="New terminal"
          title="New terminal"
          onClick={() => terminals.add()}
          data-testid="terminal-new"
        >
          <PlusIcon size={14} />
        </button>
      </div>
      {active && <TerminalView key={active.terminalId} terminals={terminals} session={active} />}
    </div>
  );
}

function TerminalTab({
  terminals,
  session,
  active,
}: {
  terminals: WorkspaceTerminals;
  session: TerminalSession;
  active: boolean;
}) {
  const state = session.status.value.state;
  return (
    <li class="terminal-tab" data-active={active}>
      <button
        type="button"
        aria-current={active ? "true" : undefined}
        class="terminal-tab-label"
        onClick={() => terminals.select(session)}
        data-testid="terminal-tab"
        data-state={state}
      >
        <span
          class="state-dot"
          data-state={state === "open" ? "idle" : state === "opening" ? "starting" : "closed"}
        />
        {session.label}
      </button>
      <button
        type="button"
        class="icon-button small"
        aria-label={`Close ${session.label}`}
        onClick={() => terminals.close(session)}
        data-testid="terminal-close"
      >
        <CloseIcon size={12} />
      </button>
    </li>
  );
}

/** The xterm screen of one terminal, sized to the panel; its state lives in the session. */
function TerminalView({ terminals, session }: { terminals: WorkspaceTerminals; session: TerminalSession }) {
  const container = useRef<HTMLDivElement>(null);
  const status = session.status.value;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const detach = session.attach(element);
    // Screen readers hear, on the shell's input, how the keyboard gets out of it.
    element.querySelector("textarea")?.setAttribute("aria-describedby", TERMINAL_KEYS_HINT_ID);
    session.focus();
    return detach;
  }, [session]);

  // Tab belongs to the shell (completion), so F6 is the way out: to this terminal's tab, and on from there.
  const leaveOnF6 = (event: KeyboardEvent) => {
    if (event.key !== "F6") return;
    event.preventDefault();
    event.stopPropagation();
    const panel = (event.currentTarget as HTMLElement).closest(".terminal-panel");
    panel?.querySelector<HTMLElement>('.terminal-tab[data-active="true"] .terminal-tab-label')?.focus();
  };

  return (
    <div
      class="terminal-view"
      data-testid="terminal-view"
      data-state={status.state}
      onKeyDownCapture={leaveOnF6}
    >
      <p id={TERMINAL_KEYS_HINT_ID} class="visually-hidden">
        Tab completes in the shell; F6 leaves the terminal.
      </p>
      {status.state === "failed" && (
        <div class="terminal-message error" role="alert" data-testid="terminal-error" data-code={status.code}>
          {status.code === "not_supported"
            ? "The terminal is not available on this server."
            : `The terminal could not be opened: ${status.error}`}
          <button type="button" class="button small" onClick={() => terminals.restart(session)}>
            Try again
          </button>
        </div>
      )}
      {status.state === "exited" && (
        <div class="terminal-message" role="status" data-testid="terminal-exited">
          The shell ended
          {status.exitCode !== undefined ? ` with exit code ${status.exitCode}` : ""}
          {status.signal ? ` (${status.signal})` : ""}.
          <button type="button" class="button small" onClick={() => terminals.restart(session)}>
            New shell
          </button>
        </div>
      )}
      {status.state === "opening" && (
        <div class="terminal-message" role="status">
          Connecting…
        </div>
      )}
      <div ref={container} class="terminal-container" />
    </div>
  );
}
