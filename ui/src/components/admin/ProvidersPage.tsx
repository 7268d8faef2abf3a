import { useSignal } from "@preact/signals";
import type { ModelSpec, Provider, ProviderBodyInput } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { AddButton } from "../common/AddButton.tsx";
import { formatPrice, formatTokenCount, relativeTime } from "../common/format.ts";
import { ListPage } from "../common/ListPage.tsx";
import { useLoadedList } from "../common/useLoadedList.ts";
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

/** Admin: LLM providers. Their keys stay sealed in the server; agents reach them only through the gateway. */
export function ProvidersPage() {
  const { items: providers, error, reload } = useLoadedList(api.listProviders);
  const editing = useSignal<Editing>({ mode: "closed" });
  const confirmDelete = useSignal<string | null>(null);

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
  return (
    <ListPage
      titleId="providers-title"
      title="Providers"
      intro="LLM endpoints available to every user. Keys are stored on the server and never shown again."
      actions={
        state.mode === "closed" && (
          <AddButton
            label="Add provider"
            onClick={() => {
              editing.value = { mode: "add" };
            }}
            testId="provider-add"
          />
        )
      }
      error={error.value}
      items={providers.value}
      loadingText="Loading providers…"
      empty={<p>No providers yet. Agents need at least one to answer.</p>}
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
                  <span class="badge" data-ok={provider.has_api_key}>
                    {provider.has_api_key ? "key stored" : "no key"}
                  </span>
                </div>
                <div class="provider-url">{provider.base_url}</div>
                <ul class="chips" aria-label={`Models of ${provider.name}`}>
                  {provider.models.map((model) => (
                    <li key={model.id} class="chip" title={modelSummary(model)}>
                      {model.id}
                    </li>
                  ))}
                </ul>
                <div class="muted small">Updated {relativeTime(provider.updated_at)}</div>
              </div>
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
            </li>
          ))}
        </ul>
      )}
    >
      {state.mode !== "closed" && (
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
