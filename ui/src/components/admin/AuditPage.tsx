import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { AuditEntry } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { DataTable } from "../common/DataTable.tsx";
import { formatDateTime } from "../common/format.ts";
import { IconButton } from "../common/IconButton.tsx";
import { RefreshIcon } from "../common/icons.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { SelectField } from "../common/SelectField.tsx";

/** The actions the server records (PROTOCOL.md §4.2), for the filter. */
const ACTIONS = [
  "auth.setup",
  "auth.login",
  "auth.login_failure",
  "auth.login_delayed",
  "auth.logout",
  "auth.register",
  "auth.register_refused",
  "account.password_change",
  "account.key_create",
  "account.key_delete",
  "admin.user_create",
  "admin.user_update",
  "admin.user_password_reset",
  "admin.user_delete",
  "admin.provider_create",
  "admin.provider_update",
  "admin.provider_delete",
  "admin.invite_create",
  "admin.invite_revoke",
  "admin.login_lock_lift",
  "admin.session_stop",
  "session.start",
];
const FILTER_OPTIONS = [{ value: "", label: "All actions" }, ...ACTIONS];
const PAGE_SIZE = 50;

function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

/** Admin: the append-only audit log, newest first, a page at a time. */
export function AuditPage() {
  const entries = useSignal<AuditEntry[] | null>(null);
  const nextBefore = useSignal<number | undefined>(undefined);
  const action = useSignal("");
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);
  // Counts loads, so that the answer for a filter the admin has since changed is dropped.
  const generation = useRef(0);

  const load = async (more: boolean) => {
    generation.current += 1;
    const mine = generation.current;
    loading.value = true;
    try {
      const page = await api.listAudit({
        limit: PAGE_SIZE,
        before: more ? nextBefore.value : undefined,
        action: action.value || undefined,
      });
      if (mine !== generation.current) return;
      entries.value = more ? [...(entries.value ?? []), ...page.entries] : page.entries;
      nextBefore.value = page.next_before;
      error.value = null;
    } catch (caught) {
      if (mine === generation.current) error.value = errorText(caught);
    } finally {
      if (mine === generation.current) loading.value = false;
    }
  };

  useEffect(() => {
    void load(false);
  }, []);

  return (
    <ListPage
      titleId="audit-title"
      title="Audit log"
      intro="Sign-ins, account and provider changes, newest first. Entries can be neither changed nor deleted."
      actions={
        <div class="toolbar">
          <SelectField
            label="Action"
            value={action}
            options={FILTER_OPTIONS}
            onChange={(value) => {
              action.value = value;
              entries.value = null;
              void load(false);
            }}
            testId="audit-filter"
          />
          <IconButton label="Refresh" onClick={() => void load(false)} testId="audit-refresh">
            <RefreshIcon />
          </IconButton>
        </div>
      }
      error={error.value}
      items={entries.value}
      loadingText="Loading the audit log…"
      empty={<p>{action.value ? `No ${action.value} entries.` : "The log is empty."}</p>}
      renderList={(list) => (
        <>
          <DataTable label="Audit log" columns={["Time", "Actor", "Action", "Target", "IP", "Detail"]}>
            {list.map((entry) => (
              <tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
                <td data-label="Time" class="nowrap">
                  <time dateTime={new Date(entry.at).toISOString()}>{formatDateTime(entry.at)}</time>
                </td>
                <td data-label="Actor" data-testid="audit-actor">
                  {entry.actor_name ?? <span class="muted">—</span>}
                </td>
                <td data-label="Action">
                  <code class="audit-action">{entry.action}</code>
                </td>
                <td data-label="Target" data-testid="audit-target">
                  {entry.target ?? <span class="muted">—</span>}
                </td>
                <td data-label="IP" class="mono">
                  {entry.ip ?? <span class="muted">—</span>}
                </td>
                <td data-label="Detail" class="audit-detail">
                  {entry.detail ? detailText(entry.detail) : <span class="muted">—</span>}
                </td>
              </tr>
            ))}
          </DataTable>
          <div class="list-footer">
            {nextBefore.value !== undefined ? (
              <button
                type="button"
                class="button"
                disabled={loading.value}
                onClick={() => void load(true)}
                data-testid="audit-load-more"
              >
                {loading.value ? "Loading…" : "Load more"}
              </button>
            ) : (
              <span class="muted small" data-testid="audit-end">
                No older entries ({list.length} shown).
              </span>
            )}
          </div>
        </>
      )}
    />
  );
}
