import { useSignal } from "@preact/signals";
import type { ProviderSyncResult } from "../../../../src/protocol/eavs.ts";
import type { ModelSpec, Provider, ProviderBodyInput } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { AddButton } from "../common/AddButton.tsx";
import { formatPrice, formatTokenCount, relativeTime } from "../common/format.ts";
import { ListPage } from "../common/ListPage.tsx";
import { useLoadedList } from "../common/useLoadedList.ts";
import { EavsPanel } from "./EavsPanel.tsx";
import { useEavsMode } from "./eavs-mode.ts";
import { ProviderForm } from "./ProviderForm.tsx";

/** "Claude Sonnet · 200k context · $3.00 / $15.00 per M": what is known of a model, for its chip's tooltip. */
function modelSummary(model: ModelSpec): string {
  return [
    model.name,
    model.context_window && `${formatTokenCount(model.context_window)} context`,
    model.price ? formatPrice(model.price) : "no price",
  ]
    .filter(Boolean)
    .join(" · ");
}

type Editing = { mode: "closed" } | { mode: "add" } | { mode: "edit"; provider: Provider };

type Sync = { state: "idle" } | { state: "running" } | { state: "done"; result: ProviderSyncResult };

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** "Synced from eavs: 2 providers, 3 models, sent to every runner." */
function syncSummary(result: ProviderSyncResult): string {
  const source = result.source === "eavs" ? "from eavs" : "the server's providers";
  return `Synced ${source}: ${plural(result.providers, "provider")}, ${plural(result.models, "model")}, sent to every runner.`;
}

/**
 * Admin: LLM providers. Their keys stay sealed in the server; agents reach them only through the gateway.
 * In eavs mode the providers are eavs' and read-only here: the page says where they are managed, syncs
 * them on demand and shows the eavs panel.
 */
export function ProvidersPage() {
  const { items: providers, error, reload } = useLoadedList(api.listProviders);
  const { mode, reload: reloadMode } = useEavsMode();
  const editing = useSignal<Editing>({ mode: "closed" });
  const confirmDelete = useSignal<string | null>(null);
  const sync = useSignal<Sync>({ state: "idle" });
  const syncError = useSignal<string | null>(null);

  const syncNow = async () => {
    sync.value = { state: "running" };
    syncError.value = null;
    try {
      sync.value = { state: "done", result: await api.syncProviders() };
    } catch (caught) {
      sync.value = { state: "idle" };
      syncError.value = errorText(caught);
    }
    // A failed sync changes the status too: it shows what failed.
    await Promise.all([reload(), reloadMode()]);
  };

  const save = async (body: ProviderBodyInput) => {
    const state = editing.value;
    if (state.mode === "edit") await api.updateProvider(state.provider.name, body);
    else await api.createProvider(body);
    editing.value = { mode: "closed" };
    await reload();
  };

  const remove = async (name: string) => {
    confirmDelete.value = null;
    try {
      await api.deleteProvider(name);
      await reload();
    } catch (caught) {
      error.value = errorText(caught);
    }
  };

  const state = editing.value;
  const current = mode.value;
  const eavs = current.kind === "eavs" ? current.status : null;
  const modeError = current.kind === "embedded" ? current.error : null;
  return (
    <ListPage
      titleId="providers-title"
      title="Providers"
      intro={
        eavs
          ? "LLM endpoints available to every user, as eavs offers them. eavs holds their keys."
          : "LLM endpoints available to every user. Keys are stored on the server and never shown again."
      }
      actions={
        eavs ? (
          <button
            type="button"
            class="button primary"
            onClick={() => void syncNow()}
            disabled={sync.value.state === "running"}
            data-testid="provider-sync"
          >
            {sync.value.state === "running" ? "Syncing…" : "Sync now"}
          </button>
        ) : (
          current.kind === "embedded" &&
          state.mode === "closed" && (
            <AddButton
              label="Add provider"
              onClick={() => {
                editing.value = { mode: "add" };
              }}
              testId="provider-add"
            />
          )
        )
      }
      error={error.value ?? modeError}
      // Until the mode is known, the cards would not know whether they may be edited.
      items={current.kind === "checking" ? null : providers.value}
      loadingText="Loading providers…"
      empty={
        eavs ? (
          <p>eavs offers no provider the gateway can relay. Add one in eavs, then sync.</p>
        ) : (
          <p>No providers yet. Agents need at least one to answer.</p>
        )
      }
      footer={eavs && <EavsPanel status={eavs} />}
      renderList={(list) => (
        <ul class="provider-list" aria-label="Providers">
          {list.map((provider) => (
            <li
              key={provider.name}
              class="provider-card"
              data-testid="provider-item"
              data-provider={provider.name}
            >
              <div class="provider-main">
                <div class="provider-title">
                  <strong>{provider.name}</strong>
                  <span class="badge">{provider.api}</span>
                  {eavs ? (
                    <span class="badge">in eavs</span>
                  ) : (
                    <span class="badge" data-ok={provider.has_api_key}>
                      {provider.has_api_key ? "key stored" : "no key"}
                    </span>
                  )}
                </div>
                <div class="provider-url">{provider.base_url}</div>
                <ul class="chips" aria-label={`Models of ${provider.name}`}>
                  {provider.models.map((model) => (
                    <li key={model.id} class="chip" title={modelSummary(model)}>
                      {model.id}
                    </li>
                  ))}
                </ul>
                <div class="muted small">
                  {eavs ? "Read from eavs" : "Updated"} {relativeTime(provider.updated_at)}
                </div>
              </div>
              {!eavs && (
                <div class="provider-actions">
                  {confirmDelete.value === provider.name ? (
                    <>
                      <span class="small">Delete {provider.name}?</span>
                      <button
                        type="button"
                        class="button danger small"
                        onClick={() => void remove(provider.name)}
                        data-testid="provider-delete-confirm"
                      >
                        Delete
                      </button>
                      <button
                        type="button"
                        class="button ghost small"
                        onClick={() => {
                          confirmDelete.value = null;
                        }}
                      >
                        Keep
                      </button>
                    </>
                  ) : (
                    <>
                      <button
                        type="button"
                        class="button small"
                        onClick={() => {
                          editing.value = { mode: "edit", provider };
                        }}
                        aria-label={`Edit ${provider.name}`}
                        data-testid="provider-edit"
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="button ghost small"
                        onClick={() => {
                          confirmDelete.value = provider.name;
                        }}
                        aria-label={`Delete ${provider.name}`}
                        data-testid="provider-delete"
                      >
                        Delete
                      </button>
                    </>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    >
      {eavs && (
        <p class="notice" data-testid="eavs-managed">
          Providers are managed in eavs at <span class="mono">{eavs.url}</span>: add, change or remove them
          there, then sync them here.
        </p>
      )}
      {sync.value.state === "done" && (
        <p class="form-success provider-sync-result" role="status" data-testid="provider-sync-result">
          {syncSummary(sync.value.result)}
        </p>
      )}
      {syncError.value && (
        <p class="form-error provider-sync-result" role="alert" data-testid="provider-sync-error">
          {syncError.value}
        </p>
      )}
      {!eavs && state.mode !== "closed" && (
        <ProviderForm
          key={state.mode === "edit" ? state.provider.name : "new"}
          editing={state.mode === "edit" ? state.provider : null}
          onSave={save}
          onCancel={() => {
            editing.value = { mode: "closed" };
          }}
        />
      )}
    </ListPage>
  );
}
