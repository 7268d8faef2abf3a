import { useSignal } from "@preact/signals";
import type { Provider, ProviderBody } from "../../../../src/protocol/index.ts";
import { bindValue } from "../common/bind-value.ts";
import { Field, TextField } from "../common/Field.tsx";
import { PanelForm } from "../common/PanelForm.tsx";
import { SelectField } from "../common/SelectField.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

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
  const form = useFormSubmit(() =>
    onSave({
      name: name.value.trim(),
      api: api.value,
      base_url: baseUrl.value.trim(),
      api_key: apiKey.value,
      models: models.value
        .split(/[\n,]/)
        .map((m) => m.trim())
        .filter((m) => m.length > 0),
    }),
  );

  return (
    <PanelForm
      title={editing ? `Edit ${editing.name}` : "Add a provider"}
      form={form}
      onCancel={onCancel}
      submitLabel="Save provider"
      busyLabel="Saving…"
      submitTestId="provider-save"
    >
      <div class="form-grid">
        <TextField
          label="Name"
          hint="a–z, 0–9, _ or -; used as the provider id in pi."
          value={name}
          required
          disabled={editing !== null}
          data-testid="provider-name"
        />
        <SelectField label="API" value={api} options={APIS} testId="provider-api" />
        <TextField
          label="Base URL"
          value={baseUrl}
          type="url"
          required
          placeholder="https://api.example.com/v1"
          data-testid="provider-base-url"
        />
        <TextField
          label="API key"
          hint={editing?.has_api_key ? "A key is stored; enter it again to save changes." : undefined}
          value={apiKey}
          type="password"
          autocomplete="off"
          required
          data-testid="provider-api-key"
        />
      </div>
      <Field label="Models" hint="Model ids, one per line.">
        {(control) => (
          <textarea {...control} {...bindValue(models)} rows={4} required data-testid="provider-models" />
        )}
      </Field>
    </PanelForm>
  );
}
