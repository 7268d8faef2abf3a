import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { AdminAdmission, AdminRunningSession } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { baseName } from "../../lib/paths.ts";
import { confirmThenRun } from "../common/confirm-then-run.ts";
import { DataTable } from "../common/DataTable.tsx";
import { IconButton } from "../common/IconButton.tsx";
import { RefreshIcon } from "../common/icons.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { RowActionButton } from "../common/RowActionButton.tsx";

/** How often the open page asks again: sessions start and end without telling this page. */
const REFRESH_MS = 5_000;

function stateText(session: AdminRunningSession): string {
  return session.phase ? `${session.state}: ${session.phase.replaceAll("_", " ")}` : session.state;
}

/** Admin: every running agent session of every user, with a way to stop one. */
export function SessionsPage() {
  const sessions = useSignal<AdminRunningSession[] | null>(null);
  const admission = useSignal<AdminAdmission | null>(null);
  const error = useSignal<string | null>(null);
  const stopping = useSignal<ReadonlySet<string>>(new Set());
  // Counts loads, so that a slow answer never overwrites a newer one (such as the reload after a stop).
  const generation = useRef(0);
  const inFlight = useRef(0);

  const reload = async () => {
    generation.current += 1;
    const mine = generation.current;
    inFlight.current += 1;
    try {
      const [list, queue] = await Promise.all([api.listRunningSessions(), api.getAdmission()]);
      if (mine !== generation.current) return;
      sessions.value = list;
      admission.value = queue;
      error.value = null;
    } catch (caught) {
      if (mine === generation.current) error.value = errorText(caught);
    } finally {
      inFlight.current -= 1;
    }
  };

  useEffect(() => {
    void reload();
    // A hidden tab or a load still running skips its turn: no requests pile up.
    const timer = setInterval(() => {
      if (!document.hidden && inFlight.current === 0) void reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const stop = async (session: AdminRunningSession) => {
    const owner = session.username ?? "its owner";
    const outcome = await confirmThenRun(
      {
        title: `Stop the session of ${owner}?`,
        message: `The agent in ${baseName(session.workspace_path)} ends at once, in the middle of a turn if it is working, and ${owner} sees the session stop. The conversation stays in their history; a new prompt resumes it.`,
        confirmLabel: "Stop session",
        danger: true,
      },
      async () => {
        stopping.value = new Set([...stopping.value, session.session_id]);
        try {
          await api.stopSession(session.session_id);
        } finally {
          const rest = new Set(stopping.value);
          rest.delete(session.session_id);
          stopping.value = rest;
        }
      },
      error,
    );
    // After a failure too: the session may have ended on its own meanwhile.
    if (outcome !== "cancelled") await reload();
  };

  return (
    <>
      {admission.value && <AdmissionSection admission={admission.value} />}
      <ListPage
        titleId="sessions-title"
        title="Sessions"
        intro="Every running agent session of every user, refreshed every few seconds while this page is open."
        actions={
          <IconButton label="Refresh" onClick={() => void reload()} testId="admin-sessions-refresh">
            <RefreshIcon />
          </IconButton>
        }
        error={error.value}
        items={sessions.value}
        loadingText="Loading running sessions…"
        empty={<p>No session is running.</p>}
        renderList={(list) => (
          <DataTable
            label="Running sessions"
            columns={["User", "Workspace", "State", "PID", "Session"]}
            withActions
          >
            {list.map((session) => {
              const busy = stopping.value.has(session.session_id);
              return (
                <tr
                  key={session.session_id}
                  data-testid="admin-session-row"
                  data-session-id={session.session_id}
                  data-username={session.username}
                >
                  <th scope="row" data-label="User">
                    {session.username ?? <span class="muted">unknown</span>}
                  </th>
                  <td
                    data-label="Workspace"
                    title={session.workspace_path}
                    data-testid="admin-session-workspace"
                  >
                    {baseName(session.workspace_path)}
                  </td>
                  <td data-label="State">
                    <span
                      class="badge"
                      data-ok={session.state === "idle"}
                      data-state={session.state}
                      data-testid="admin-session-state"
                    >
                      {stateText(session)}
                    </span>
                  </td>
                  <td data-label="PID" class="mono">
                    {session.pid ?? <span class="muted">—</span>}
                  </td>
                  <td data-label="Session" class="mono session-id-cell">
                    {session.session_id}
                  </td>
                  <td class="row-actions">
                    <RowActionButton
                      label={`Stop the session of ${session.username ?? "an unknown user"} in ${baseName(session.workspace_path)}`}
                      disabled={busy}
                      onClick={() => void stop(session)}
                      testId="admin-session-stop"
                    >
                      {busy ? "Stopping…" : "Stop"}
                    </RowActionButton>
                  </td>
                </tr>
              );
            })}
          </DataTable>
        )}
      />
    </>
  );
}

function waited(since: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - since) / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** The admission limit, how many generate, and the queue in order (PROTOCOL.md §2.2.1). */
function AdmissionSection({ admission }: { admission: AdminAdmission }) {
  const limit = admission.limit === 0 ? "unlimited" : String(admission.limit);
  return (
    <section class="page admission" aria-labelledby="admission-title" data-testid="admin-admission">
      <h2 id="admission-title">Admission</h2>
      <p class="muted" data-testid="admin-admission-summary">
        {admission.generating.length} generating of {limit} allowed at once · {admission.queue.length} waiting
      </p>
      {admission.queue.length > 0 && (
        <DataTable label="Admission queue" columns={["#", "User", "Workspace", "Waiting", "Session"]}>
          {admission.queue.map((entry) => (
            <tr
              key={entry.session_id}
              data-testid="admin-queue-row"
              data-session-id={entry.session_id}
              data-position={entry.position}
            >
              <td data-label="#">{entry.position}</td>
              <th scope="row" data-label="User">
                {entry.username ?? <span class="muted">unknown</span>}
              </th>
              <td data-label="Workspace" title={entry.workspace_path}>
                {entry.workspace_path ? baseName(entry.workspace_path) : <span class="muted">—</span>}
              </td>
              <td data-label="Waiting" title={new Date(entry.queued_at).toLocaleString()}>
                {waited(entry.queued_at)}
              </td>
              <td data-label="Session" class="mono session-id-cell">
                {entry.session_id}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
