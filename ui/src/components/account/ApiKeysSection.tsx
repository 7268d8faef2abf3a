import { useSignal } from "@preact/signals";
import type { ApiKey, CreatedApiKey } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { clock } from "../../state/clock.ts";
import { confirmThenRun } from "../common/confirm-then-run.ts";
import { DataTable } from "../common/DataTable.tsx";
import { FormError, TextField } from "../common/Field.tsx";
import { PlusIcon } from "../common/icons.tsx";
import { RelativeTime } from "../common/RelativeTime.tsx";
import { RowActionButton } from "../common/RowActionButton.tsx";
import { SelectField, type SelectOption } from "../common/SelectField.tsx";
import { SubmitButton } from "../common/SubmitButton.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { useLoadedList } from "../common/useLoadedList.ts";
import { NewKeyModal } from "./NewKeyModal.tsx";

const DAY_S = 86_400;
/** Lifetimes offered for a new key, in seconds; "" is a key that lasts until deleted. */
const EXPIRIES: readonly SelectOption<string>[] = [
  { label: "Never expires", value: "" },
  { label: "7 days", value: String(7 * DAY_S) },
  { label: "30 days", value: String(30 * DAY_S) },
  { label: "90 days", value: String(90 * DAY_S) },
  { label: "1 year", value: String(365 * DAY_S) },
];

/** Personal API keys for scripts: listed by prefix, created (the key shown once) and deleted. */
export function ApiKeysSection() {
  const { items: keys, error: keysError, reload } = useLoadedList(api.listApiKeys);
  const created = useSignal<CreatedApiKey | null>(null);
  const name = useSignal("");
  const expiry = useSignal("");

  const { error, busy, submit } = useFormSubmit(async () => {
    created.value = await api.createApiKey({
      name: name.value.trim(),
      ...(expiry.value && { expires_in_s: Number(expiry.value) }),
    });
    name.value = "";
    await reload();
  });

  const remove = async (key: ApiKey) => {
    const outcome = await confirmThenRun(
      {
        title: `Delete the key ${key.name}?`,
        message: "Whatever uses it is refused from now on. This cannot be undone.",
        confirmLabel: "Delete key",
        danger: true,
      },
      () => api.deleteApiKey(key.id),
      keysError,
    );
    if (outcome === "done") await reload();
  };

  const list = keys.value;
  return (
    <section class="panel" aria-labelledby="keys-title" data-testid="api-keys">
      <h2 id="keys-title">API keys</h2>
      <p class="muted small section-intro">
        For scripts and tools: send one as <code>Authorization: Bearer oqto_…</code>. A key acts as you until
        it expires or you delete it; signing out or a new password leaves it working.
      </p>
      <form class="key-form" onSubmit={submit} aria-label="New API key">
        <TextField
          label="Name"
          value={name}
          placeholder="e.g. backup script"
          maxLength={100}
          required
          data-testid="api-key-name"
        />
        <SelectField label="Expires" value={expiry} options={EXPIRIES} testId="api-key-expiry" />
        <SubmitButton busy={busy.value} testId="api-key-create">
          <PlusIcon /> Create key
        </SubmitButton>
      </form>
      <FormError message={error.value ?? keysError.value} />
      {list === null && !keysError.value && <p class="muted">Loading keys…</p>}
      {list?.length === 0 && <p class="muted">No API keys yet.</p>}
      {list && list.length > 0 && (
        <DataTable label="API keys" columns={["Name", "Key", "Created", "Last used", "Expires"]} withActions>
          {list.map((key) => (
            <tr key={key.id} data-testid="api-key-row" data-key-name={key.name}>
              <th scope="row" data-label="Name">
                {key.name}
              </th>
              <td data-label="Key">
                <code>{key.prefix}…</code>
              </td>
              <td data-label="Created">
                <RelativeTime ms={key.created_at} />
              </td>
              <td data-label="Last used">
                {key.last_used_at ? <RelativeTime ms={key.last_used_at} /> : <span class="muted">never</span>}
              </td>
              <td data-label="Expires">
                {key.expires_at === undefined ? (
                  <span class="muted">never</span>
                ) : key.expires_at <= clock.value ? (
                  <span class="badge danger">expired</span>
                ) : (
                  <RelativeTime ms={key.expires_at} />
                )}
              </td>
              <td class="row-actions">
                <RowActionButton
                  label={`Delete the key ${key.name}`}
                  onClick={() => void remove(key)}
                  testId="api-key-delete"
                >
                  Delete
                </RowActionButton>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {created.value && (
        <NewKeyModal
          created={created.value}
          onClose={() => {
            created.value = null;
          }}
        />
      )}
    </section>
  );
}
