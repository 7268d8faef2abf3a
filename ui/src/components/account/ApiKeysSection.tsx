import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { ApiKey, CreatedApiKey } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { clock } from "../../state/clock.ts";
import { confirmDialog } from "../../state/dialogs.ts";
import { bindValue } from "../common/bind-value.ts";
import { Field, FormError } from "../common/Field.tsx";
import { PlusIcon } from "../common/icons.tsx";
import { RelativeTime } from "../common/RelativeTime.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { NewKeyModal } from "./NewKeyModal.tsx";

const DAY_S = 86_400;
/** Lifetimes offered for a new key, in seconds; "" is a key that lasts until deleted. */
const EXPIRIES: readonly { label: string; seconds: string }[] = [
  { label: "Never expires", seconds: "" },
  { label: "7 days", seconds: String(7 * DAY_S) },
  { label: "30 days", seconds: String(30 * DAY_S) },
  { label: "90 days", seconds: String(90 * DAY_S) },
  { label: "1 year", seconds: String(365 * DAY_S) },
];

/** Personal API keys for scripts: listed by prefix, created (the key shown once) and deleted. */
export function ApiKeysSection() {
  const keys = useSignal<ApiKey[] | null>(null);
  const keysError = useSignal<string | null>(null);
  const created = useSignal<CreatedApiKey | null>(null);
  const name = useSignal("");
  const expiry = useSignal("");

  const reload = async () => {
    try {
      keys.value = await api.listApiKeys();
      keysError.value = null;
    } catch (caught) {
      keysError.value = errorText(caught);
    }
  };

  useEffect(() => {
    void reload();
  }, []);

  const { error, busy, submit } = useFormSubmit(async () => {
    created.value = await api.createApiKey({
      name: name.value.trim(),
      ...(expiry.value && { expires_in_s: Number(expiry.value) }),
    });
    name.value = "";
    await reload();
  });

  const remove = async (key: ApiKey) => {
    const confirmed = await confirmDialog({
      title: `Delete the key ${key.name}?`,
      message: "Whatever uses it is refused from now on. This cannot be undone.",
      confirmLabel: "Delete key",
      danger: true,
    });
    if (!confirmed) return;
    try {
      await api.deleteApiKey(key.id);
      await reload();
    } catch (caught) {
      keysError.value = errorText(caught);
    }
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
        <Field label="Name">
          {(control) => (
            <input
              {...control}
              {...bindValue(name)}
              placeholder="e.g. backup script"
              maxLength={100}
              required
              data-testid="api-key-name"
            />
          )}
        </Field>
        <Field label="Expires">
          {(control) => (
            <select
              {...control}
              value={expiry}
              onChange={(e) => {
                expiry.value = e.currentTarget.value;
              }}
              data-testid="api-key-expiry"
            >
              {EXPIRIES.map((option) => (
                <option key={option.label} value={option.seconds}>
                  {option.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" class="button primary" disabled={busy.value} data-testid="api-key-create">
          <PlusIcon /> Create key
        </button>
      </form>
      <FormError message={error.value ?? keysError.value} />
      {list === null && !keysError.value && <p class="muted">Loading keys…</p>}
      {list?.length === 0 && <p class="muted">No API keys yet.</p>}
      {list && list.length > 0 && (
        <div class="table-scroll">
          <table class="data-table" aria-label="API keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
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
                    {key.last_used_at ? (
                      <RelativeTime ms={key.last_used_at} />
                    ) : (
                      <span class="muted">never</span>
                    )}
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
                    <button
                      type="button"
                      class="button ghost small"
                      onClick={() => void remove(key)}
                      aria-label={`Delete the key ${key.name}`}
                      data-testid="api-key-delete"
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
