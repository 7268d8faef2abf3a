import { useSignal } from "@preact/signals";
import type { LlmLimits } from "../../../../src/protocol/index.ts";
import { fieldIssues } from "../../lib/api.ts";
import { Field, TextField } from "../common/Field.tsx";
import { PanelForm } from "../common/PanelForm.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";
import {
  LIMIT_FIELDS,
  type LimitField,
  limitsBody,
  limitTexts,
  type ModelChoiceGroup,
  otherPatterns,
} from "./limits-fields.ts";

interface LimitsFormProps {
  /** e.g. "Limits of bob" */
  title: string;
  /** What an empty field means for this subject, e.g. "the role's value applies". */
  emptyMeans: string;
  current: LlmLimits | undefined;
  choices: readonly ModelChoiceGroup[];
  onSave: (body: LlmLimits) => Promise<void>;
  onCancel: () => void;
}

/** Budgets, rate limits and allowed models of one user or role; the server's complaints show per field. */
export function LimitsForm({ title, emptyMeans, current, choices, onSave, onCancel }: LimitsFormProps) {
  const texts = useSignal<Record<LimitField, string>>(limitTexts(current));
  const restricted = useSignal(current?.models !== undefined);
  const allowed = useSignal<ReadonlySet<string>>(new Set(current?.models ?? []));
  const others = useSignal(otherPatterns(current?.models ?? [], choices).join(", "));
  const issues = useSignal<Record<string, string>>({});

  const models = (): string[] | null => {
    if (!restricted.value) return null;
    const known = choices.flatMap((group) => [group.wildcard, ...group.models.map((m) => m.value)]);
    const typed = others.value
      .split(/[\s,]+/)
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0);
    return [...new Set([...known.filter((value) => allowed.value.has(value)), ...typed])];
  };

  const form = useFormSubmit(async () => {
    issues.value = {};
    try {
      await onSave(limitsBody(texts.value, models()));
    } catch (error) {
      issues.value = fieldIssues(error);
      throw error;
    }
  });

  const toggle = (value: string, on: boolean) => {
    const next = new Set(allowed.value);
    if (on) next.add(value);
    else next.delete(value);
    allowed.value = next;
  };
  const modelIssue = Object.entries(issues.value).find(([path]) => path.startsWith("models"))?.[1];

  return (
    <PanelForm
      title={title}
      testId="limits-form"
      form={form}
      onCancel={onCancel}
      submitLabel="Save limits"
      busyLabel="Saving…"
      submitTestId="limits-save"
    >
      <p class="muted small section-intro">
        Leave a field empty for no limit of that kind here: {emptyMeans}.
      </p>
      <div class="form-grid limits-grid">
        {LIMIT_FIELDS.map((field) => (
          <Field key={field.key} label={field.label} error={issues.value[field.key]}>
            {(control) => (
              <input
                {...control}
                type="text"
                inputMode={field.usd ? "decimal" : "numeric"}
                placeholder="no limit"
                value={texts.value[field.key]}
                onInput={(event) => {
                  texts.value = { ...texts.value, [field.key]: event.currentTarget.value };
                }}
                data-testid={`limits-${field.key.replaceAll("_", "-")}`}
              />
            )}
          </Field>
        ))}
      </div>
      <fieldset class="limits-models" data-testid="limits-models">
        <legend class="field-label">Models</legend>
        <label class="radio-line">
          <input
            type="radio"
            name="limits-models-mode"
            checked={!restricted.value}
            onChange={() => {
              restricted.value = false;
            }}
            data-testid="limits-models-all"
          />
          Every configured model
        </label>
        <label class="radio-line">
          <input
            type="radio"
            name="limits-models-mode"
            checked={restricted.value}
            onChange={() => {
              restricted.value = true;
            }}
            data-testid="limits-models-some"
          />
          Only the models ticked below
        </label>
        {restricted.value && (
          <div class="limits-model-groups">
            {choices.length === 0 && <p class="muted small">No providers are configured yet.</p>}
            {choices.map((group) => {
              const all = allowed.value.has(group.wildcard);
              return (
                <fieldset key={group.provider} class="limits-model-group">
                  <legend class="visually-hidden">{group.provider}</legend>
                  <label class="check-line">
                    <input
                      type="checkbox"
                      checked={all}
                      onChange={(event) => toggle(group.wildcard, event.currentTarget.checked)}
                      data-testid="limits-model"
                      data-value={group.wildcard}
                    />
                    <strong>{group.provider}</strong>
                    <span class="muted small">every model, also ones added later ({group.wildcard})</span>
                  </label>
                  {group.models.map((model) => (
                    <label key={model.value} class="check-line nested">
                      <input
                        type="checkbox"
                        checked={all || allowed.value.has(model.value)}
                        disabled={all}
                        onChange={(event) => toggle(model.value, event.currentTarget.checked)}
                        data-testid="limits-model"
                        data-value={model.value}
                      />
                      <span class="mono">{model.label}</span>
                    </label>
                  ))}
                </fieldset>
              );
            })}
            <TextField
              label="Other ids or patterns"
              hint="provider/model ids, comma separated; a trailing * matches every id that starts so."
              value={others}
              placeholder="openai/gpt-4o*"
              data-testid="limits-models-other"
            />
            <p class="field-hint">Nothing ticked: no model may be used.</p>
          </div>
        )}
        {modelIssue && (
          <span class="field-error" data-testid="field-error">
            {modelIssue}
          </span>
        )}
      </fieldset>
    </PanelForm>
  );
}
