import { useSignal } from "@preact/signals";
import type { Provider, ProviderBody } from "../../../../src/protocol/index.ts";
import { errorText } from "../../lib/errors.ts";
import { Field, FormError } from "../common/Field.tsx";

const APIS: readonly ProviderBody["api"][] = [
  "openai-completions",
  "openai-responses",
  "anthropic-messages",
  "google-generative-ai",
];

interface ProviderFormProps {
  /** The provider being edited, or `null` to add one. */
  editing: Provider | null;
  onSave: (body: ProviderBody) => Promise<void>;
  onCancel: () => void;
}

/** Models are typed one per line (or comma separated); the key is write-only and always required. */
export function ProviderForm({ editing, onSave, onCancel }: ProviderFormProps) {
  const name = useSignal(editing?.name ?? "");
  const api = useSignal<ProviderBody["api"]>(editing?.api ?? "openai-completions");
  const baseUrl = useSignal(editing?.base_url ?? "");
  const apiKey = useSignal("");
  const models = useSignal(editing?.models.join("\n") ?? "");
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    busy.value = true;
    error.value = null;
    try {
      await onSave({
        name: name.value.trim(),
        api: api.value,
        base_url: baseUrl.value.trim(),
        api_key: apiKey.value,
        models: models.value
          .split(/[\n,]/)
          .map((m) => m.trim())
          .filter((m) => m.length > 0),
      });
    } catch (caught) {
      error.value = errorText(caught);
    } finally {
      busy.value = false;
    }
  };

  return (
    <form
      class="form panel"
      onSubmit={submit}
      aria-label={editing ? `Edit ${editing.name}` : "Add a provider"}
    >
      <h2>{editing ? `Edit ${editing.name}` : "Add a provider"}</h2>
      <div class="form-grid">
        <Field label="Name" hint="a–z, 0–9, _ or -; used as the provider id in pi.">
          {(control) => (
            <input
              {...control}
              required
              disabled={editing !== null}
              value={name}
              onInput={(e) => {
                name.value = e.currentTarget.value;
              }}
              data-testid="provider-name"
            />
          )}
        </Field>
        <Field label="API">
          {(control) => (
            <select
              {...control}
              value={api}
              onChange={(e) => {
                api.value = e.currentTarget.value as ProviderBody["api"];
              }}
              data-testid="provider-api"
            >
              {APIS.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Base URL">
          {(control) => (
            <input
              {...control}
              type="url"
              required
              placeholder="https://api.example.com/v1"
              value={baseUrl}
              onInput={(e) => {
                baseUrl.value = e.currentTarget.value;
              }}
              data-testid="provider-base-url"
            />
          )}
        </Field>
        <Field
          label="API key"
          hint={editing?.has_api_key ? "A key is stored; enter it again to save changes." : undefined}
        >
          {(control) => (
            <input
              {...control}
              type="password"
              autocomplete="off"
              required
              value={apiKey}
              onInput={(e) => {
                apiKey.value = e.currentTarget.value;
              }}
              data-testid="provider-api-key"
            />
          )}
        </Field>
      </div>
      <Field label="Models" hint="Model ids, one per line.">
        {(control) => (
          <textarea
            {...control}
            rows={4}
            required
            value={models}
            onInput={(e) => {
              models.value = e.currentTarget.value;
            }}
            data-testid="provider-models"
          />
        )}
      </Field>
      <FormError message={error.value} />
      <div class="form-actions">
        <button type="button" class="button ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="button primary" disabled={busy.value} data-testid="provider-save">
          {busy.value ? "Saving…" : "Save provider"}
        </button>
      </div>
    </form>
  );
}
