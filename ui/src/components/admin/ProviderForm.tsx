import { useSignal } from "@preact/signals";
import {
  ModelSpec,
  type Provider,
  type ProviderBody,
  type ProviderBodyInput,
  type ProviderProbeResult,
} from "../../../../src/protocol/index.ts";
import { api, fieldIssues } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { TextField } from "../common/Field.tsx";
import { formatDuration } from "../common/format.ts";
import { PanelForm } from "../common/PanelForm.tsx";
import { SelectField } from "../common/SelectField.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import { ISSUE_FIELDS, ModelTable } from "./ModelTable.tsx";
import { type ModelNumberField, type ModelRow, mergeProbed, rowFromSpec, specFromRow } from "./model-rows.ts";

const APIS: readonly ProviderBody["api"][] = [
  "openai-completions",
  "openai-responses",
  "anthropic-messages",
  "google-generative-ai",
];

interface ProviderFormProps {
  /** The provider being edited, or `null` to add one. */
  editing: Provider | null;
  onSave: (body: ProviderBodyInput) => Promise<void>;
  onCancel: () => void;
}

type Probe =
  | { status: "idle" }
  | { status: "running"; purpose: "test" | "fetch" }
  | { status: "done"; purpose: "test" | "fetch"; result: ProviderProbeResult; added: number }
  | { status: "failed"; error: string };

type RowIssues = Record<string, Partial<Record<ModelNumberField | "id", string>>>;

/**
 * Add or edit a provider: its endpoint and key, a connection test, and the models offered to users with
 * their context size and prices (fetched from the provider's own listing, or typed). The key is
 * write-only: left empty on an edit, the stored key stays.
 */
export function ProviderForm({ editing, onSave, onCancel }: ProviderFormProps) {
  const name = useSignal(editing?.name ?? "");
  const apiKind = useSignal<ProviderBody["api"]>(editing?.api ?? "openai-completions");
  const baseUrl = useSignal(editing?.base_url ?? "");
  const apiKey = useSignal("");
  const rows = useSignal<ModelRow[]>(editing?.models.map((model) => rowFromSpec(model, true)) ?? []);
  const probe = useSignal<Probe>({ status: "idle" });
  /** The server's complaints about the top-level fields, then about each model row. */
  const issues = useSignal<Record<string, string>>({});
  const rowIssues = useSignal<RowIssues>({});

  const form = useFormSubmit(
    async () => {
      issues.value = {};
      rowIssues.value = {};
      const offered = rows.value.filter((row) => row.offered);
      try {
        await onSave({
          name: name.value.trim(),
          api: apiKind.value,
          base_url: baseUrl.value.trim(),
          ...(apiKey.value.length > 0 && { api_key: apiKey.value }),
          // Checked by the server, whose complaints come back by the path of each field.
          models: offered.map(specFromRow) as ProviderBodyInput["models"],
        });
      } catch (error) {
        const split = splitIssues(fieldIssues(error), offered);
        issues.value = split.fields;
        rowIssues.value = split.rows;
        throw error;
      }
    },
    {
      validate: () => {
        const offered = rows.value.filter((row) => row.offered);
        if (offered.length === 0)
          return "Offer at least one model: fetch the provider's models or add one by its id.";
        // The API's own schema, row by row: the server reports a bad model only as a whole ("models.1:
        // Invalid input"), this puts each complaint at its cell.
        rowIssues.value = modelIssues(offered);
        const bad = Object.keys(rowIssues.value).length;
        return bad === 0
          ? null
          : `${bad === 1 ? "A model has" : `${bad} models have`} invalid values; see the table.`;
      },
    },
  );

  const runProbe = async (purpose: "test" | "fetch") => {
    const url = baseUrl.value.trim();
    if (!url) {
      probe.value = { status: "failed", error: "Enter the base URL first." };
      return;
    }
    probe.value = { status: "running", purpose };
    try {
      const result = await api.probeProvider({
        api: apiKind.value,
        base_url: url,
        ...(apiKey.value.length > 0
          ? { api_key: apiKey.value }
          : editing?.has_api_key && { name: editing.name }),
      });
      let added = 0;
      if (purpose === "fetch" && result.ok) {
        const before = rows.value.length;
        rows.value = mergeProbed(rows.value, result.models);
        added = rows.value.length - before;
      }
      probe.value = { status: "done", purpose, result, added };
    } catch (error) {
      probe.value = { status: "failed", error: errorText(error) };
    }
  };

  const running = probe.value.status === "running" ? probe.value.purpose : null;
  return (
    <PanelForm
      title={editing ? `Edit ${editing.name}` : "Add a provider"}
      testId="provider-form"
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
          error={issues.value.name}
          value={name}
          required
          disabled={editing !== null}
          data-testid="provider-name"
        />
        <SelectField label="API" value={apiKind} options={APIS} testId="provider-api" />
        <TextField
          label="Base URL"
          error={issues.value.base_url}
          value={baseUrl}
          type="url"
          required
          placeholder="https://api.example.com/v1"
          data-testid="provider-base-url"
        />
        <TextField
          label="API key"
          hint={
            editing?.has_api_key
              ? "Stored; leave empty to keep it, or enter a new one to replace it."
              : "Leave empty for a local server that needs none."
          }
          error={issues.value.api_key}
          value={apiKey}
          type="password"
          autocomplete="new-password"
          placeholder={editing?.has_api_key ? "•••••••• (stored)" : ""}
          data-testid="provider-api-key"
        />
      </div>
      <div class="probe-bar">
        <button
          type="button"
          class="button small"
          onClick={() => void runProbe("test")}
          disabled={running !== null}
          data-testid="provider-test"
        >
          {running === "test" ? "Testing…" : "Test connection"}
        </button>
        <button
          type="button"
          class="button small"
          onClick={() => void runProbe("fetch")}
          disabled={running !== null}
          data-testid="provider-fetch-models"
        >
          {running === "fetch" ? "Fetching…" : "Fetch models"}
        </button>
        <ProbeResult probe={probe.value} />
      </div>
      <ModelTable rows={rows} issues={rowIssues.value} />
    </PanelForm>
  );
}

function ProbeResult({ probe }: { probe: Probe }) {
  if (probe.status === "idle" || probe.status === "running") return null;
  if (probe.status === "failed") {
    return (
      <span class="probe-result" data-ok="false" role="status" data-testid="provider-probe-result">
        {probe.error}
      </span>
    );
  }
  const { result, purpose, added } = probe;
  return (
    <span
      class="probe-result"
      data-ok={result.ok}
      role="status"
      data-testid="provider-probe-result"
      data-latency={result.latency_ms}
    >
      <strong>{result.ok ? "Connected" : "Failed"}</strong>
      {result.status !== undefined && ` · HTTP ${result.status}`}
      {` · ${formatDuration(result.latency_ms)} · ${result.message}`}
      {purpose === "fetch" &&
        result.ok &&
        (added > 0
          ? ` · ${added} new in the table below, not offered until ticked`
          : " · nothing new for the table")}
    </span>
  );
}

/** Each row's spec checked against ModelSpec, the complaints by row key and column. */
function modelIssues(rows: readonly ModelRow[]): RowIssues {
  const issues: RowIssues = {};
  for (const row of rows) {
    const parsed = ModelSpec.safeParse(specFromRow(row));
    if (parsed.success) continue;
    for (const issue of parsed.error.issues) {
      const field = ISSUE_FIELDS[issue.path.map(String).join(".")];
      if (field) issues[row.key] = { [field]: issue.message, ...issues[row.key] };
    }
  }
  return issues;
}

/**
 * The server's issues by dotted path: the top-level fields' as they are, each `models.<n>.<field>` on the
 * row that was sent as model n.
 */
function splitIssues(
  byPath: Record<string, string>,
  sent: readonly ModelRow[],
): { fields: Record<string, string>; rows: RowIssues } {
  const fields: Record<string, string> = {};
  const rows: RowIssues = {};
  for (const [path, message] of Object.entries(byPath)) {
    const match = /^models\.(\d+)\.(.+)$/.exec(path);
    const row = match ? sent[Number(match[1])] : undefined;
    const field = match ? ISSUE_FIELDS[match[2] ?? ""] : undefined;
    if (row && field) rows[row.key] = { ...rows[row.key], [field]: message };
    else fields[path] = message;
  }
  return { fields, rows };
}
